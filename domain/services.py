"""Application services: the use cases the API, the scheduler and the CLI share."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from domain import events as ev
from domain.commands import Command
from domain.errors import (
    IllegalTransitionError,
    TaskNotFoundError,
    VersionConflictError,
)
from domain.ports import EventStore, TaskQueue
from domain.task_run import TaskRun
from domain.tasks import Task, TaskStatus

logger = logging.getLogger(__name__)

__all__ = ["submit", "load", "cancel", "retry", "explain", "TaskRun", "Waiting"]

CONFLICT_RETRIES = 5
MEND_AFTER_S = 30


def new_task_id() -> str:
    return uuid.uuid4().hex


def submit(
    command: Command,
    store: EventStore,
    queue: TaskQueue,
    idempotency_ttl_s: int,
    retry_of: str = "",
) -> tuple[Task, bool]:
    """Record the command as a new task and hand it to the workers.

    A repeat with a known idempotency key returns the first task."""
    task_id = new_task_id()
    submission = ev.TaskSubmitted(
        task_id=task_id,
        task_type=command.task_type,
        arguments=command.arguments(),
        priority=command.priority,
        idempotency_key=command.idempotency_key,
        actor=command.actor,
        correlation_id=command.correlation_id or task_id,
        retry_of=retry_of,
    )
    task_id, created = store.submit(submission, idempotency_ttl_s)

    task = load(store, task_id)
    if created or _hand_over_lost(task):
        queue.enqueue(task)
    return task, created


def _hand_over_lost(task: Task) -> bool:
    """A repeated submission of a task that has waited untouched for a while: its
    first hand-over may have failed, so it is handed over again (a duplicate
    message is harmless; bursts of repeats within the wait add none)."""
    waited = (ev.utc_now() - task.submitted_at).total_seconds()
    untouched = task.status is TaskStatus.QUEUED and task.version == 1
    return untouched and waited > MEND_AFTER_S


def load(store: EventStore, task_id: str) -> Task:
    """The task folded from its history; raises TaskNotFoundError if there is none."""
    task = store.task(task_id)
    if task is None:
        raise TaskNotFoundError(task_id)
    return task


def cancel(store: EventStore, task_id: str, actor: str, reason: str = "") -> Task:
    """Ask the task to stop. A task that has not started is cancelled at once; a
    running one stops at its next safe point. A finished task refuses."""
    for _ in range(CONFLICT_RETRIES):
        task = load(store, task_id)
        if task.status.is_terminal:
            raise IllegalTransitionError(
                task_id,
                task.status.value,
                "TaskCancelRequested",
                "the task has finished",
            )
        if task.cancel_requested:
            return task
        try:
            return _record_cancel(store, task, actor, reason)
        except VersionConflictError:
            continue
    raise VersionConflictError(task_id, task.version, store.version(task_id))


def _record_cancel(store: EventStore, task: Task, actor: str, reason: str) -> Task:
    origin = {
        "task_id": task.task_id,
        "actor": actor,
        "correlation_id": task.correlation_id,
    }
    events: list[ev.Event] = [ev.TaskCancelRequested(reason=reason, **origin)]
    if task.status is TaskStatus.QUEUED:
        events.append(ev.TaskCancelled(reason=reason, **origin))
    after = task
    for number, event in enumerate(events, start=task.version + 1):
        after = after.apply(event.at_version(number))
    store.append(task.task_id, events, task.version, state=after)
    task = after
    logger.info("cancel requested by %s", actor, extra={"task_id": task.task_id})
    return task


def retry(
    store: EventStore, queue: TaskQueue, task_id: str, actor: str, ttl_s: int
) -> Task:
    """Submit a new task that does what a failed, dead-lettered or cancelled one
    was asked to do, linked to it; a retry of the same task twice is one task."""
    old = load(store, task_id)
    if old.status not in RETRYABLE:
        raise IllegalTransitionError(
            task_id,
            old.status.value,
            "retry",
            "only a task that did not succeed " "and has finished can be retried",
        )
    command = _RetryCommand(
        actor=actor,
        priority="high",
        idempotency_key=f"retry:{task_id}",
        correlation_id=old.correlation_id,
        task_type=old.task_type,
        stored_arguments=dict(old.arguments),
    )
    task, _ = submit(command, store, queue, ttl_s, retry_of=task_id)
    return task


RETRYABLE = frozenset(
    {TaskStatus.FAILED, TaskStatus.DEAD_LETTERED, TaskStatus.CANCELLED}
)


@dataclass(frozen=True, kw_only=True)
class _RetryCommand(Command):
    task_type: str
    stored_arguments: dict

    def arguments(self) -> dict:
        return self.stored_arguments


@dataclass(frozen=True)
class Waiting:
    """Why a task is not running, as far as the caller could find out."""

    queued_ahead: int = 0
    slot_holder: str | None = None


def explain(task: Task, waiting: Waiting) -> str | None:
    """A sentence saying why the task is not running now; None if it is or ended."""
    if task.cancel_requested and not task.status.is_terminal:
        return "cancel pending: the task stops at its next safe point"
    if task.status is not TaskStatus.QUEUED:
        return None
    if task.retry_at:
        return f"retry of attempt {task.attempt} scheduled at {task.retry_at}"
    if waiting.slot_holder and waiting.slot_holder != task.task_id:
        return (
            f"waiting for the one-at-a-time slot held by task " f"{waiting.slot_holder}"
        )
    if waiting.queued_ahead:
        return f"queued behind {waiting.queued_ahead} task(s)"
    return "queued: next in line for a free worker"
