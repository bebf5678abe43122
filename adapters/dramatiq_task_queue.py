"""Dramatiq on Redis as the hand-over from the API to the workers.

A message carries only the task id; the worker reads everything else from the
event store. Priorities map onto Dramatiq in two ways at once: each priority has
its own queue (``bldr-high``, ``bldr-normal``, ``bldr-low``), and each (task type,
priority) pair its own actor (``update_norms.high`` …) whose Dramatiq priority
orders the messages a worker has already fetched, so a high task overtakes low
ones that wait in the same worker. Redis itself has no message priority.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from domain.commands import PRIORITIES
from domain.ports import TaskQueue
from domain.tasks import Task

logger = logging.getLogger(__name__)

# Dramatiq runs the lowest number first.
ACTOR_PRIORITY = {"high": 0, "normal": 50, "low": 100}


class TaskQueueError(Exception):
    """The task could not be handed to the broker."""


def queue_name(priority: str) -> str:
    return f"bldr-{priority}"


def actor_name(task_type: str, priority: str) -> str:
    return f"{task_type}.{priority}"


def make_broker(
    redis_url: str,
    prefix: str,
    heartbeat_ms: int = 60_000,
    maintenance_chance: int = 1_000,
) -> RedisBroker:
    """A broker whose keys live under ``<prefix>-dramatiq``; connects lazily.

    ``heartbeat_ms`` is how long a silent worker counts as alive: its unfinished
    messages go back to the queue after that, on a maintenance pass that runs
    on ``maintenance_chance`` in a million fetches."""
    broker = RedisBroker(
        url=redis_url,
        namespace=f"{prefix}-dramatiq",
        heartbeat_timeout=heartbeat_ms,
        maintenance_chance=maintenance_chance,
    )
    for priority in PRIORITIES:
        broker.declare_queue(queue_name(priority))
    return broker


def declare_actors(
    broker: RedisBroker,
    task_type: str,
    run: Callable[[str], None],
    time_limit_s: float,
) -> None:
    """Register the actors that run tasks of ``task_type`` by id, one per priority.

    Failures are recorded as task events by ``run`` itself; Dramatiq's own
    retries are off so that a task is never run twice behind the store's back."""
    for priority in PRIORITIES:
        dramatiq.actor(
            run,
            actor_name=actor_name(task_type, priority),
            queue_name=queue_name(priority),
            priority=ACTOR_PRIORITY[priority],
            broker=broker,
            max_retries=0,
            time_limit=int(time_limit_s * 1000),
        )


class DramatiqTaskQueue(TaskQueue):
    def __init__(self, broker: RedisBroker):
        self._broker = broker

    def enqueue(self, task: Task, delay_s: float = 0) -> None:
        message = dramatiq.Message(
            queue_name=queue_name(task.priority),
            actor_name=actor_name(task.task_type, task.priority),
            args=(task.task_id,),
            kwargs={},
            options={},
        )
        delay_ms = int(delay_s * 1000) or None
        try:
            self._broker.enqueue(message, delay=delay_ms)
        except Exception as exc:
            raise TaskQueueError(f"enqueue task {task.task_id}: {exc}") from exc
        logger.debug(
            "task enqueued",
            extra={"task_id": task.task_id, "message_id": message.message_id},
        )
