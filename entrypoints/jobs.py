"""The table of task types a worker runs, each wired to its adapters."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import tenacity

from adapters import csv_catalogue
from adapters.redis_task_lock import RedisTaskSlots
from domain.norms import CatalogueFetchError
from domain.norms_sync import sync_norms
from domain.services import TaskRun
from entrypoints.bootstrap import Container

logger = logging.getLogger(__name__)

Job = Callable[[TaskRun, dict[str, Any]], dict[str, Any]]


def job_table(container: Container) -> dict[str, Job]:
    return {"update_norms": functools.partial(update_norms, container)}


def update_norms(container: Container, run: TaskRun, arguments: dict[str, Any]):
    s = container.settings
    sources = expand(arguments.get("sources") or s.default_sources)
    slots = RedisTaskSlots(container.redis, s.prefix)
    timeout = (5.0, s.fetch_timeout_s)
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(_transient),
        stop=tenacity.stop_after_attempt(s.fetch_attempts),
        wait=tenacity.wait_exponential_jitter(multiplier=s.fetch_backoff_s, max=60),
        before_sleep=_log_retry(run.task_id),
        reraise=True,
    )

    def read(source: str, on_progress) -> Iterator[Any]:
        return retrying(_opened, source, on_progress, timeout)

    return sync_norms(
        run, sources, read,
        exclusive=lambda: slots.hold("update_norms", run.task_id),
    )


def expand(sources) -> list[str]:
    """Folders become the catalogues inside them, in name order."""
    expanded: list[str] = []
    for source in sources:
        if "://" not in source and Path(source).is_dir():
            expanded.extend(str(p) for p in csv_catalogue.list_catalogues(source))
        else:
            expanded.append(source)
    return expanded


def _opened(source: str, on_progress, timeout) -> Iterator[Any]:
    """The catalogue's items with the first one already read, so that fetching and
    header errors surface here, where they can be retried."""
    items = csv_catalogue.read_catalogue(source, on_progress=on_progress,
                                         timeout=timeout)
    first = next(items, None)
    return _chain(first, items)


def _chain(first, rest) -> Iterator[Any]:
    if first is not None:
        yield first
        yield from rest


def _transient(error: BaseException) -> bool:
    return isinstance(error, CatalogueFetchError) and error.transient


def _log_retry(task_id: str):
    def log(state: tenacity.RetryCallState) -> None:
        logger.warning("catalogue fetch attempt %d failed, retrying in %.1f s: %s",
                       state.attempt_number, state.upcoming_sleep,
                       state.outcome.exception(), extra={"task_id": task_id})
    return log
