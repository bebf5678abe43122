"""One attempt of a task inside a worker, recording its events in order."""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from domain import events as ev
from domain.errors import DomainError, VersionConflictError
from domain.norms import Norm
from domain.ports import EventStore, RecordedEvent
from domain.tasks import Task, TaskStatus

TRACE_LIMIT = 20_000


class TaskCancelledError(DomainError):
    """The task was asked to stop; raised at the job's next safe point."""

    def __init__(self, task_id: str, reason: str):
        self.task_id = task_id
        self.reason = reason
        super().__init__(f"task {task_id} was cancelled: {reason or 'no reason given'}")


class TaskRun:
    """One attempt of a task: appends its events at the version it last saw.

    Progress is recorded at most every ``progress_interval_s`` seconds. Every
    append, and ``checkpoint()`` in between, is a safe point: a cancel request
    recorded meanwhile stops the job there with TaskCancelledError."""

    def __init__(
        self,
        store: EventStore,
        task: Task,
        worker: str,
        progress_interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.task = task
        self.worker = worker
        self._interval = progress_interval_s
        self._clock = clock
        self._last_progress = float("-inf")
        self._last_check = float("-inf")

    @property
    def task_id(self) -> str:
        return self.task.task_id

    def start(self) -> bool:
        """Record the start of the next attempt; False if another worker has it."""
        if self.task.status.is_terminal or self.task.cancel_requested:
            return False
        started = ev.TaskStarted(
            task_id=self.task_id, attempt=self.task.attempt + 1, worker=self.worker
        )
        try:
            self._append([started])
        except VersionConflictError:
            return False
        return True

    def record(
        self,
        facts: Sequence[ev.Event],
        norms: Mapping[str, Norm] | None = None,
        progress: tuple[float, int, int] | None = None,
    ) -> None:
        """Append ``facts`` (and the norms they establish), with progress (percent,
        items done, items in all or 0 if unknown) when a progress event is due."""
        batch = list(facts)
        if progress is not None and self._progress_due():
            batch.append(self._progress_event(*progress))
        if batch:
            self._append(batch, norms)
        else:
            self.checkpoint()

    def checkpoint(self, every_s: float = 0.2) -> None:
        """A safe point: stop here if someone asked to cancel the task."""
        now = self._clock()
        if now - self._last_check < every_s:
            return
        self._last_check = now
        if self.store.version(self.task_id) != self.task.version:
            self._catch_up()

    def succeed(self, report: dict[str, Any]) -> None:
        self._finish(ev.TaskSucceeded(task_id=self.task_id, report=report))

    def fail(self, error: BaseException, report: dict[str, Any] | None = None) -> None:
        self._finish(
            ev.TaskFailed(
                task_id=self.task_id,
                attempt=self.task.attempt,
                report=report or {},
                **describe(error),
            )
        )

    def cancelled(self, report: dict[str, Any] | None = None) -> None:
        self._finish(
            ev.TaskCancelled(
                task_id=self.task_id,
                reason=self.task.cancel_reason,
                report=report or {},
            )
        )

    def retry_later(self, error: BaseException, delay_s: float) -> None:
        retry_at = ev.utc_now() + timedelta(seconds=delay_s)
        self._finish(
            ev.TaskRetryScheduled(
                task_id=self.task_id,
                attempt=self.task.attempt,
                delay_s=delay_s,
                retry_at=retry_at.isoformat(timespec="seconds"),
                **describe(error),
            )
        )

    def dead_letter(self, error: BaseException) -> None:
        self._finish(
            ev.TaskDeadLettered(
                task_id=self.task_id, attempts=self.task.attempt, **describe(error)
            )
        )

    def _finish(self, event: ev.Event) -> None:
        """Append an ending of this attempt. A cancel requested meanwhile is folded
        in first and the ending still goes through; if another worker has taken
        the task over, VersionConflictError says this attempt no longer counts."""
        attempt = self.task.attempt
        try:
            self._append_raw([event])
        except VersionConflictError:
            self._reload()
            if self.task.attempt != attempt or self.task.status.is_terminal:
                raise
            self._append_raw([event])

    def _progress_due(self) -> bool:
        now = self._clock()
        if now - self._last_progress < self._interval:
            return False
        self._last_progress = now
        return True

    def _progress_event(self, percent: float, done: int, total: int):
        percent = max(min(round(percent, 1), 100.0), self.task.percent)
        done = max(done, self.task.done)
        return ev.TaskProgressed(
            task_id=self.task_id, percent=percent, done=done, total=total
        )

    def _append(self, events: list[ev.Event], norms=None) -> list[RecordedEvent]:
        try:
            return self._append_raw(events, norms)
        except VersionConflictError:
            self._catch_up()
            raise

    def _append_raw(self, events: list[ev.Event], norms=None) -> list[RecordedEvent]:
        numbered = [
            self._stamp(e, number)
            for number, e in enumerate(events, start=self.task.version + 1)
        ]
        after = _fold_batch(self.task, numbered)
        recorded = self.store.append(
            self.task_id, numbered, self.task.version, norms, state=after
        )
        self.task = after
        return recorded

    def _catch_up(self) -> None:
        """Fold in what others recorded; raise if it was a cancel request."""
        self._reload()
        if self.task.cancel_requested and self.task.status is TaskStatus.RUNNING:
            raise TaskCancelledError(self.task_id, self.task.cancel_reason)

    def _reload(self) -> None:
        self.task = self.store.task(self.task_id)

    def _stamp(self, event: ev.Event, version: int) -> ev.Event:
        return dataclasses.replace(
            event,
            version=version,
            actor="worker:" + self.worker,
            correlation_id=self.task.correlation_id,
        )


_LIFECYCLE = tuple(ev.TASK_EVENTS)


def _fold_batch(task: Task, events: list[ev.Event]) -> Task:
    """The task after a batch this run numbered itself. Facts about norms change
    nothing but the version, so only lifecycle events are folded one by one: a
    batch of hundreds of norm events costs one copy of the task, not hundreds."""
    for event in events:
        if isinstance(event, _LIFECYCLE):
            task = dataclasses.replace(task, version=event.version - 1).apply(event)
    if task.version != events[-1].version:
        task = dataclasses.replace(task, version=events[-1].version)
    return task


def describe(error: BaseException) -> dict[str, str]:
    """Error type, a one-line message, and the stack trace kept for the detail view."""
    error = getattr(error, "cause", None) or error
    message = " ".join(str(error).split()) or type(error).__name__
    trace = "".join(traceback.format_exception(error))[-TRACE_LIMIT:]
    return {
        "error_type": type(error).__name__,
        "message": message[:500],
        "trace": trace,
    }
