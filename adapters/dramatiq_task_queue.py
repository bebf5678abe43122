"""Dramatiq on Redis as the hand-over from the API to the workers.

A message carries only the task id; the worker reads everything else from the
event store. Each priority has its own queue (``bldr-high``, ``bldr-normal``,
``bldr-low``); the actor of a task type is named after the type.
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


class TaskQueueError(Exception):
    """The task could not be handed to the broker."""


def queue_name(priority: str) -> str:
    return f"bldr-{priority}"


def make_broker(redis_url: str, prefix: str) -> RedisBroker:
    """A broker whose keys live under ``<prefix>-dramatiq``; connects lazily."""
    broker = RedisBroker(url=redis_url, namespace=f"{prefix}-dramatiq")
    for priority in PRIORITIES:
        broker.declare_queue(queue_name(priority))
    return broker


def declare_actor(
    broker: RedisBroker, task_type: str, run: Callable[[str], None]
) -> dramatiq.Actor:
    """Register the actor that runs tasks of ``task_type`` by id.

    Failures are recorded as task events by ``run`` itself; Dramatiq's own
    retries are off so that a task is never run twice behind the store's back."""
    return dramatiq.actor(
        run,
        actor_name=task_type,
        queue_name=queue_name("normal"),
        broker=broker,
        max_retries=0,
    )


class DramatiqTaskQueue(TaskQueue):
    def __init__(self, broker: RedisBroker):
        self._broker = broker

    def enqueue(self, task: Task) -> None:
        message = dramatiq.Message(
            queue_name=queue_name(task.priority),
            actor_name=task.task_type,
            args=(task.task_id,),
            kwargs={},
            options={},
        )
        try:
            self._broker.enqueue(message)
        except Exception as exc:
            raise TaskQueueError(f"enqueue task {task.task_id}: {exc}") from exc
        logger.debug("task enqueued", extra={"task_id": task.task_id,
                                             "message_id": message.message_id})
