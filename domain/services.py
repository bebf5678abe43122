"""Application services: the use cases every entrypoint goes through."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from domain import events as ev
from domain.commands import UpdateNorms
from domain.errors import TaskNotFoundError, VersionConflictError
from domain.norms import Norm
from domain.ports import EventStore, RecordedEvent, TaskQueue
from domain.tasks import Task, TaskStatus, fold

logger = logging.getLogger(__name__)


def new_task_id() -> str:
    return uuid.uuid4().hex


def submit(
    command: UpdateNorms, store: EventStore, queue: TaskQueue, idempotency_ttl_s: int
) -> tuple[Task, bool]:
    """Record the command as a new task and hand it to the workers.

    A repeat with a known idempotency key returns the first task; if that task is
    still queued it is handed over again, which mends a hand-over that failed."""
    task_id = new_task_id()
    submission = ev.TaskSubmitted(
        task_id=task_id,
        task_type=command.task_type,
        arguments=command.arguments(),
        priority=command.priority,
        idempotency_key=command.idempotency_key,
        actor=command.actor,
        correlation_id=command.correlation_id or task_id,
    )
    task_id, created = store.submit(submission, idempotency_ttl_s)

    task = load(store, task_id)
    if task.status is TaskStatus.QUEUED:
        queue.enqueue(task)
    return task, created


def load(store: EventStore, task_id: str) -> Task:
    """The task folded from its history; raises TaskNotFoundError if there is none."""
    task = fold(recorded.event for recorded in store.history(task_id))
    if task is None:
        raise TaskNotFoundError(task_id)
    return task


class TaskRun:
    """One attempt of a task in a worker: appends its events in order.

    Progress is recorded at most every ``progress_interval_s`` seconds, so a fast
    job does not flood the stream and a slow one still reports regularly."""

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

    @property
    def task_id(self) -> str:
        return self.task.task_id

    def start(self) -> bool:
        """Record the start of the next attempt; False if another worker has it."""
        if self.task.status is not TaskStatus.QUEUED:
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

    def succeed(self, report: dict[str, Any]) -> None:
        self._append([ev.TaskSucceeded(task_id=self.task_id, report=report)])

    def fail(self, error: BaseException, report: dict[str, Any] | None = None) -> None:
        error = getattr(error, "cause", error)
        failed = ev.TaskFailed(
            task_id=self.task_id,
            error_type=type(error).__name__,
            message=_one_line(error),
            attempt=self.task.attempt,
            report=report or {},
        )
        self._append([failed])

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
        stamped = [self._stamp(e) for e in events]
        recorded = self.store.append(self.task_id, stamped, self.task.version, norms)
        for item in recorded:
            self.task = self.task.apply(item.event)
        return recorded

    def _stamp(self, event: ev.Event) -> ev.Event:
        return _with_origin(event, "worker:" + self.worker, self.task.correlation_id)


def _with_origin(event: ev.Event, actor: str, correlation_id: str) -> ev.Event:
    return dataclasses.replace(event, actor=actor, correlation_id=correlation_id)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:500]


def run_task(
    store: EventStore,
    task_id: str,
    worker: str,
    jobs: Mapping[str, Callable[[TaskRun, dict[str, Any]], dict[str, Any]]],
) -> Task | None:
    """Run a delivered task once; None if it was not ours to run."""
    run = TaskRun(store, load(store, task_id), worker)
    if not run.start():
        logger.info("task not queued, delivery skipped", extra={"task_id": task_id})
        return None
    try:
        report = jobs[run.task.task_type](run, run.task.arguments)
    except Exception as exc:  # noqa: BLE001 - any job error fails the task
        logger.warning("task failed: %s", exc, extra={"task_id": task_id})
        run.fail(exc, getattr(exc, "report", None))
        return run.task
    run.succeed(report)
    return run.task
