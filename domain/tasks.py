"""The task aggregate: its state is the fold of its events, and the fold guards the
rules of the lifecycle.

queued --started--> running --succeeded--> succeeded
                    running --failed-----> failed
                    running --retry scheduled--> queued (until the next attempt)
                    running --dead-lettered--> dead_lettered
queued or running --cancel requested--> (same status, cancel pending)
queued or running --cancelled--> cancelled
A running task may be started again only as a new attempt (its worker died); no
event but the first may come before ``TaskSubmitted`` and none after a terminal one.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain import events as ev
from domain.errors import IllegalTransitionError


class TaskStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DEAD_LETTERED = "dead_lettered"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        TaskStatus.SUCCEEDED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
        TaskStatus.DEAD_LETTERED,
    }
)


@dataclass(frozen=True)
class Task:
    """A task as its history says it is, at ``version``."""

    task_id: str
    task_type: str
    status: TaskStatus
    version: int
    submitted_at: datetime
    arguments: dict[str, Any] = field(default_factory=dict)
    priority: str = "normal"
    idempotency_key: str = ""
    submitted_by: str = ""
    correlation_id: str = ""
    attempt: int = 0
    percent: float = 0.0
    done: int = 0
    total: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    report: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] = field(default_factory=dict)
    retry_of: str = ""
    retry_at: str = ""
    cancel_requested: bool = False
    cancel_reason: str = ""

    def apply(self, event: ev.Event) -> Task:
        """The task after ``event``; refuses an event the lifecycle does not allow."""
        self._check_next(event)
        handler = _HANDLERS.get(type(event), _only_running)
        changed = handler(self, event)
        return dataclasses.replace(changed, version=event.version)

    def _check_next(self, event: ev.Event) -> None:
        if event.task_id != self.task_id:
            self._refuse(event, f"event belongs to task {event.task_id}")
        if event.version != self.version + 1:
            self._refuse(event, f"version {event.version} is not {self.version + 1}")
        if self.status.is_terminal:
            self._refuse(event, "the task has finished")

    def _refuse(self, event: ev.Event, rule: str) -> None:
        raise IllegalTransitionError(
            self.task_id, self.status.value, event.type_name, rule
        )


def submitted(event: ev.TaskSubmitted) -> Task:
    """The task a submission creates; it must be the first event of its history."""
    if event.version != 1:
        raise IllegalTransitionError(
            event.task_id, "unknown", event.type_name, "a submission must be version 1"
        )
    return Task(
        task_id=event.task_id,
        task_type=event.task_type,
        status=TaskStatus.QUEUED,
        version=1,
        submitted_at=event.occurred_at,
        arguments=dict(event.arguments),
        priority=event.priority,
        idempotency_key=event.idempotency_key,
        submitted_by=event.actor,
        correlation_id=event.correlation_id,
        retry_of=event.retry_of,
    )


def fold(history: Iterable[ev.Event]) -> Task | None:
    """The state of a task from its whole history, oldest event first; None if empty."""
    task: Task | None = None
    for event in history:
        task = start_or_apply(task, event)
    return task


def start_or_apply(task: Task | None, event: ev.Event) -> Task:
    """One step of the fold: a submission opens a history, anything else extends it."""
    if task is None:
        if not isinstance(event, ev.TaskSubmitted):
            raise IllegalTransitionError(
                event.task_id,
                "unknown",
                event.type_name,
                "the task was never submitted",
            )
        return submitted(event)
    return task.apply(event)


def _on_submitted(task: Task, event: ev.Event) -> Task:
    task._refuse(event, "the task was already submitted")
    return task


def _on_started(task: Task, event: ev.TaskStarted) -> Task:
    if task.status is TaskStatus.RUNNING and event.attempt <= task.attempt:
        task._refuse(event, f"attempt {event.attempt} has already started")
    if task.cancel_requested:
        task._refuse(event, "a cancel is pending")
    return dataclasses.replace(
        task,
        status=TaskStatus.RUNNING,
        attempt=event.attempt,
        started_at=event.occurred_at,
        retry_at="",
        percent=0.0,
        done=0,
        total=0,
    )


def _on_progressed(task: Task, event: ev.TaskProgressed) -> Task:
    _only_running(task, event)
    if not 0 <= event.percent <= 100:
        task._refuse(event, f"percent {event.percent} is outside 0..100")
    if event.percent < task.percent or event.done < task.done:
        task._refuse(event, "progress never goes back")
    return dataclasses.replace(
        task, percent=event.percent, done=event.done, total=event.total
    )


def _on_succeeded(task: Task, event: ev.TaskSucceeded) -> Task:
    _only_running(task, event)
    return dataclasses.replace(
        task,
        status=TaskStatus.SUCCEEDED,
        percent=100.0,
        total=task.total or task.done,
        finished_at=event.occurred_at,
        report=dict(event.report),
    )


def _on_failed(task: Task, event: ev.TaskFailed) -> Task:
    _only_running(task, event)
    error = _error(event, event.attempt)
    return dataclasses.replace(
        task,
        status=TaskStatus.FAILED,
        finished_at=event.occurred_at,
        report=dict(event.report),
        error=error,
    )


def _on_cancel_requested(task: Task, event: ev.TaskCancelRequested) -> Task:
    if task.cancel_requested:
        task._refuse(event, "a cancel is already pending")
    return dataclasses.replace(task, cancel_requested=True, cancel_reason=event.reason)


def _on_cancelled(task: Task, event: ev.TaskCancelled) -> Task:
    if not task.cancel_requested:
        task._refuse(event, "nobody asked to cancel it")
    return dataclasses.replace(
        task,
        status=TaskStatus.CANCELLED,
        finished_at=event.occurred_at,
        retry_at="",
        report=dict(event.report),
    )


def _on_retry_scheduled(task: Task, event: ev.TaskRetryScheduled) -> Task:
    _only_running(task, event)
    error = _error(event, event.attempt)
    return dataclasses.replace(
        task, status=TaskStatus.QUEUED, retry_at=event.retry_at, error=error
    )


def _on_dead_lettered(task: Task, event: ev.TaskDeadLettered) -> Task:
    error = _error(event, event.attempts)
    return dataclasses.replace(
        task,
        status=TaskStatus.DEAD_LETTERED,
        finished_at=event.occurred_at,
        retry_at="",
        error=error,
    )


def _error(event, attempt: int) -> dict[str, Any]:
    """What a task shows of the error an event reports."""
    return {"type": event.error_type, "message": event.message, "attempt": attempt}


def _only_running(task: Task, event: ev.Event) -> Task:
    if task.status is not TaskStatus.RUNNING:
        task._refuse(event, "only a running task records this")
    return task


_HANDLERS = {
    ev.TaskSubmitted: _on_submitted,
    ev.TaskStarted: _on_started,
    ev.TaskProgressed: _on_progressed,
    ev.TaskSucceeded: _on_succeeded,
    ev.TaskFailed: _on_failed,
    ev.TaskCancelRequested: _on_cancel_requested,
    ev.TaskCancelled: _on_cancelled,
    ev.TaskRetryScheduled: _on_retry_scheduled,
    ev.TaskDeadLettered: _on_dead_lettered,
}
