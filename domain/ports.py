"""Ports: what the domain needs from the world, named by role."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from domain import events as ev
from domain.norms import Norm
from domain.tasks import Task


@dataclass(frozen=True)
class RecordedEvent:
    """An event as the store keeps it: with its position in the global history."""

    position: str
    event: ev.Event


class EventStore(abc.ABC):
    """The append-only history of every task; the source of truth."""

    @abc.abstractmethod
    def submit(
        self, event: ev.TaskSubmitted, idempotency_ttl_s: int
    ) -> tuple[str, bool]:
        """Record a submission as version 1 of a new task, unless the same
        idempotency key already made one; returns (task id, whether it is new)."""

    @abc.abstractmethod
    def append(
        self,
        task_id: str,
        events: Sequence[ev.Event],
        expected_version: int,
        norms: Mapping[str, Norm] | None = None,
        state: Task | None = None,
    ) -> list[RecordedEvent]:
        """Append events numbered from ``expected_version + 1``, all or none;
        raises VersionConflictError if the task is at another version. ``norms``
        are the registry entries these events establish and ``state`` the task as
        they leave it, both stored with them."""

    @abc.abstractmethod
    def task(self, task_id: str) -> Task | None:
        """The task as its newest event left it; None if the task is unknown."""

    @abc.abstractmethod
    def history(
        self, task_id: str, offset: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        """The events of one task, oldest first, from the ``offset``-th on (at most
        ``limit`` of them); empty if the task is unknown."""

    @abc.abstractmethod
    def known_norms(self) -> dict[str, Norm]:
        """The norms registry as the recorded events left it, by code."""

    @abc.abstractmethod
    def version(self, task_id: str) -> int:
        """The version of the task's newest event; 0 if the task is unknown."""


class TaskQueue(abc.ABC):
    """Hands tasks to workers."""

    @abc.abstractmethod
    def enqueue(self, task: Task, delay_s: float = 0) -> None:
        """Ask a worker to run ``task`` (not before ``delay_s`` seconds from now);
        a task may be enqueued more than once."""


class SlotWaitAbandoned(Exception):
    """Waiting for a slot stopped because ``should_stop`` said so."""


class Coordination(abc.ABC):
    """What workers share outside their memory: delivery counts, leases on running
    tasks, and one-at-a-time slots per task type."""

    @abc.abstractmethod
    def count_delivery(self, task_id: str) -> int:
        """Count one more delivery of the task; the count so far, this one included."""

    @abc.abstractmethod
    def lease(self, task_id: str, holder: str) -> contextlib.AbstractContextManager:
        """Hold the task's lease for the block, renewed while the holder lives."""

    @abc.abstractmethod
    def lease_holder(self, task_id: str) -> str | None:
        """Who holds the task's lease; None once its holder stopped renewing it."""

    @abc.abstractmethod
    def slot(
        self, name: str, holder: str, should_stop: Callable[[], bool]
    ) -> contextlib.AbstractContextManager:
        """Wait for the one-at-a-time slot ``name`` and hold it for the block; raise
        SlotWaitAbandoned if ``should_stop`` turns true while waiting."""

    @abc.abstractmethod
    def slot_holder(self, name: str) -> str | None:
        """Who holds the slot now, if anyone."""
