"""The table of task types a worker runs, each wired to its adapters."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from adapters import csv_catalogue
from domain.norms_sync import sync_norms
from domain.task_run import TaskRun
from entrypoints.bootstrap import Container

Job = Callable[[TaskRun, dict[str, Any]], dict[str, Any]]


def job_table(container: Container) -> dict[str, Job]:
    return {"update_norms": functools.partial(update_norms, container)}


def update_norms(container: Container, run: TaskRun, arguments: dict[str, Any]):
    s = container.settings
    sources = expand(arguments.get("sources") or s.default_sources)
    timeout = (5.0, s.fetch_timeout_s)

    def read(source: str, on_progress) -> Iterator[Any]:
        return csv_catalogue.read_catalogue(
            source, on_progress=on_progress, timeout=timeout
        )

    return sync_norms(run, sources, read)


def expand(sources) -> list[str]:
    """Folders become the catalogues inside them, in name order."""
    expanded: list[str] = []
    for source in sources:
        if "://" not in source and Path(source).is_dir():
            expanded.extend(str(p) for p in csv_catalogue.list_catalogues(source))
        else:
            expanded.append(source)
    return expanded
