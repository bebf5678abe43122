"""The worker process: runs delivered tasks with Dramatiq threads until stopped."""

from __future__ import annotations

import logging
import signal
import threading

import dramatiq
import neo4j.exceptions
import redis
import requests
from dramatiq.middleware.time_limit import TimeLimitExceeded

from adapters.dramatiq_task_queue import declare_actors
from adapters.neo4j_client import GraphError
from adapters.redis_event_store import EventStoreError
from domain import delivery
from domain.norms import CatalogueFetchError
from entrypoints import jobs
from entrypoints.bootstrap import Container, process_name

logger = logging.getLogger(__name__)

TRANSIENT = (
    ConnectionError,
    TimeoutError,
    redis.ConnectionError,
    redis.TimeoutError,
    requests.ConnectionError,
    requests.Timeout,
    neo4j.exceptions.ServiceUnavailable,
    neo4j.exceptions.SessionExpired,
    neo4j.exceptions.TransientError,
    EventStoreError,
    GraphError,
)


class TimeLimitError(Exception):
    """An attempt ran past its task type's time limit."""


def worker_context(container: Container, name: str) -> delivery.WorkerContext:
    policies = container.settings.task_policies

    def classify(error: BaseException) -> tuple[BaseException, bool]:
        """The error to record, and whether another attempt may get past it."""
        if isinstance(error, TimeLimitExceeded):
            return TimeLimitError("the attempt ran past its time limit"), True
        if isinstance(error, CatalogueFetchError):
            return error, error.transient
        return error, isinstance(error, TRANSIENT)

    return delivery.WorkerContext(
        name=name,
        store=container.event_store,
        queue=container.task_queue,
        coordination=container.coordination,
        jobs=jobs.job_table(container),
        policies=policies,
        classify=classify,
    )


def declare(container: Container, context: delivery.WorkerContext) -> None:
    """The actors of every task type, each delivering through ``context``."""

    def run(task_id: str) -> None:
        delivery.deliver(context, task_id)

    for task_type in context.jobs:
        limit = context.policy(task_type).time_limit_s
        declare_actors(container.broker, task_type, run, limit)


def serve(container: Container, stop: threading.Event) -> None:
    """Consume until ``stop`` is set; running tasks finish before it returns."""
    name = process_name("worker")
    declare(container, worker_context(container, name))
    threads = container.settings.worker_threads
    # Middleware such as the time limits starts its helper threads on this
    # signal, which Dramatiq's own command line sends and we must send too.
    container.broker.emit_after("process_boot")
    worker = dramatiq.Worker(container.broker, worker_threads=threads)
    if container.settings.worker_prefetch:
        worker.queue_prefetch = container.settings.worker_prefetch
    worker.start()
    logger.info("worker %s started with %d threads", name, threads)

    stop.wait()

    logger.info("worker %s stopping", name)
    worker.stop()
    container.broker.close()


def main(container: Container) -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    serve(container, stop)
