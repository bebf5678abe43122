"""Ports: what the domain needs from the world, named by role."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
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
    def submit(self, event: ev.TaskSubmitted, idempotency_ttl_s: int) -> tuple[str, bool]:
        """Record a submission as version 1 of a new task, unless the same
        idempotency key already made one; returns (task id, whether it is new)."""

    @abc.abstractmethod
    def append(
        self,
        task_id: str,
        events: Sequence[ev.Event],
        expected_version: int,
        norms: Mapping[str, Norm] | None = None,
    ) -> list[RecordedEvent]:
        """Append events numbered from ``expected_version + 1``, all or none;
        raises VersionConflictError if the task is at another version. ``norms``
        are the registry entries these events establish, stored with them."""

    @abc.abstractmethod
    def history(self, task_id: str) -> list[RecordedEvent]:
        """Every event of one task, oldest first; empty if the task is unknown."""

    @abc.abstractmethod
    def known_norms(self) -> dict[str, Norm]:
        """The norms registry as the recorded events left it, by code."""


class TaskQueue(abc.ABC):
    """Hands tasks to workers."""

    @abc.abstractmethod
    def enqueue(self, task: Task) -> None:
        """Ask a worker to run ``task``; a task may be enqueued more than once."""
