"""The worker process: runs delivered tasks with Dramatiq threads until stopped."""

from __future__ import annotations

import logging
import signal
import threading

import dramatiq

from adapters.dramatiq_task_queue import declare_actor
from domain import services
from entrypoints import jobs
from entrypoints.bootstrap import Container, process_name

logger = logging.getLogger(__name__)


def declare_actors(container: Container, worker_name: str) -> None:
    """One actor per task type, each running the task through the event store."""
    table = jobs.job_table(container)

    def run(task_id: str) -> None:
        services.run_task(container.event_store, task_id, worker_name, table)

    for task_type in table:
        declare_actor(container.broker, task_type, run)


def serve(container: Container, stop: threading.Event) -> None:
    """Consume until ``stop`` is set; running tasks finish before it returns."""
    name = process_name("worker")
    declare_actors(container, name)
    worker = dramatiq.Worker(
        container.broker, worker_threads=container.settings.worker_threads
    )
    worker.start()
    logger.info("worker %s started with %d threads", name,
                container.settings.worker_threads)
    stop.wait()
    logger.info("worker %s stopping", name)
    worker.stop()
    container.broker.close()


def main(container: Container) -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    serve(container, stop)
