"""What a worker does with one delivered task: decide whether it is its to run,
run one attempt under the task type's policy, and record how the attempt ended."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import VersionConflictError
from domain.policies import TaskPolicy
from domain.ports import Coordination, EventStore, SlotWaitAbandoned, TaskQueue
from domain.task_run import TaskCancelledError, TaskRun
from domain.tasks import Task, TaskStatus

logger = logging.getLogger(__name__)

Job = Callable[[TaskRun, dict[str, Any]], dict[str, Any]]


class RedeliveryLimitError(Exception):
    """A task kept coming back without an attempt ever finishing."""


@dataclass(frozen=True, kw_only=True)
class WorkerContext:
    """Everything one worker process needs to run tasks.

    ``classify`` turns an attempt's error into the error to record and whether a
    later attempt may succeed (network trouble, timeouts) or not (a bad file)."""

    name: str
    store: EventStore
    queue: TaskQueue
    coordination: Coordination
    jobs: Mapping[str, Job]
    policies: Mapping[str, TaskPolicy]
    classify: Callable[[BaseException], tuple[BaseException, bool]]

    def policy(self, task_type: str) -> TaskPolicy:
        return self.policies.get(task_type) or TaskPolicy()


def deliver(ctx: WorkerContext, task_id: str) -> Task | None:
    """Run the delivered task once if it is ours to run; the task afterwards, or
    None when the delivery was a duplicate or came too late."""
    deliveries = ctx.coordination.count_delivery(task_id)
    task = _load(ctx.store, task_id)
    if task is None or not _ours(ctx, task):
        logger.info("delivery skipped", extra={"task_id": task_id})
        return None
    policy = ctx.policy(task.task_type)
    run = TaskRun(ctx.store, task, ctx.name)
    if task.cancel_requested:
        run.cancelled()
        return run.task
    if _exhausted(task, deliveries, policy):
        return _give_up(run, deliveries)
    return _run_in_slot(ctx, run, policy)


def _ours(ctx: WorkerContext, task: Task) -> bool:
    """Queued tasks are; a running one only if its worker stopped renewing its
    lease (it died), so that a duplicate delivery never runs a task twice."""
    if task.status is TaskStatus.QUEUED:
        return True
    if task.status is TaskStatus.RUNNING:
        return ctx.coordination.lease_holder(task.task_id) is None
    return False


def _exhausted(task: Task, deliveries: int, policy: TaskPolicy) -> bool:
    died_last_time = task.status is TaskStatus.RUNNING
    return deliveries > policy.max_deliveries or (
        died_last_time and task.attempt >= policy.max_attempts
    )


def _give_up(run: TaskRun, deliveries: int) -> Task:
    error = RedeliveryLimitError(
        f"delivered {deliveries} times over {run.task.attempt} attempts; "
        "its worker stopped every time"
    )
    run.dead_letter(error)
    logger.error("task dead-lettered: %s", error, extra={"task_id": run.task_id})
    return run.task


def _run_in_slot(ctx: WorkerContext, run: TaskRun, policy: TaskPolicy) -> Task | None:
    slot = contextlib.nullcontext()
    if policy.concurrency:
        slot = ctx.coordination.slot(
            run.task.task_type, run.task_id, lambda: _cancel_pending(ctx, run.task_id)
        )
    try:
        with slot:
            if not run.start():
                return None
            with ctx.coordination.lease(run.task_id, ctx.name):
                _attempt(ctx, run, policy)
    except SlotWaitAbandoned:
        run.task = _load(ctx.store, run.task_id)
        run.cancelled()
    return run.task


def _cancel_pending(ctx: WorkerContext, task_id: str) -> bool:
    task = _load(ctx.store, task_id)
    return task is None or task.cancel_requested


def _attempt(ctx: WorkerContext, run: TaskRun, policy: TaskPolicy) -> None:
    logger.info("attempt %d started", run.task.attempt, extra={"task_id": run.task_id})
    try:
        report = ctx.jobs[run.task.task_type](run, run.task.arguments)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure ends the attempt
        _ended_badly(ctx, run, policy, exc)
        return
    run.succeed(report)
    logger.info("task succeeded: %s", _summary(report), extra={"task_id": run.task_id})


def _summary(report: dict[str, Any]) -> str:
    numbers = {k: v for k, v in report.items() if isinstance(v, (int, float))}
    return ", ".join(f"{k} {v}" for k, v in numbers.items()) or "no report"


def _ended_badly(ctx, run: TaskRun, policy: TaskPolicy, exc: BaseException) -> None:
    cause = getattr(exc, "cause", None) or exc
    report = getattr(exc, "report", None)
    if isinstance(cause, TaskCancelledError):
        run.cancelled(report)
        logger.info("task cancelled at a safe point", extra={"task_id": run.task_id})
    elif isinstance(cause, VersionConflictError):
        logger.warning(
            "attempt abandoned: another worker took the task over",
            extra={"task_id": run.task_id},
        )
    else:
        error, transient = ctx.classify(cause)
        _record_failure(ctx, run, policy, error, transient, report)


def _record_failure(ctx, run, policy, error, transient, report) -> None:
    extra = {"task_id": run.task_id}
    if not transient:
        run.fail(error, report)
        logger.error("task failed: %s", error, extra=extra)
    elif run.task.attempt < policy.max_attempts:
        delay = policy.backoff(run.task.attempt)
        run.retry_later(error, delay)
        ctx.queue.enqueue(run.task, delay_s=delay)
        logger.warning(
            "attempt %d failed, retry in %.1f s: %s",
            run.task.attempt,
            delay,
            error,
            extra=extra,
        )
    else:
        run.dead_letter(error)
        logger.error(
            "task dead-lettered after %d attempts: %s",
            run.task.attempt,
            error,
            extra=extra,
        )


def _load(store: EventStore, task_id: str) -> Task | None:
    return store.task(task_id)
