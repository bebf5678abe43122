"""The table of task types a worker runs, each wired to its adapters."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from adapters import csv_catalogue
from adapters.catalogue_sources import check_sources
from adapters.document_parser import parse_document
from adapters.redis_document_store import RedisDocumentStore, RedisIndexPointer
from adapters.sqlite_search_index import SqliteSearchIndexBuilder
from domain.norms_sync import sync_norms
from domain.parse_batch import parse_batch as parse_linked_documents
from domain.task_run import TaskRun
from domain.train_rag import train_rag as build_search_index
from entrypoints.bootstrap import Container
from entrypoints.settings import Settings

Job = Callable[[TaskRun, dict[str, Any]], dict[str, Any]]


def job_table(container: Container) -> dict[str, Job]:
    return {
        "update_norms": functools.partial(update_norms, container),
        "parse_batch": functools.partial(parse_batch, container),
        "train_rag": functools.partial(train_rag, container),
    }


def update_norms(container: Container, run: TaskRun, arguments: dict[str, Any]):
    s = container.settings
    sources = sources_to_read(container, arguments)
    timeout = (5.0, s.fetch_timeout_s)

    def read(source: str, on_progress) -> Iterator[Any]:
        return csv_catalogue.read_catalogue(
            source, on_progress=on_progress, timeout=timeout
        )

    return sync_norms(run, sources, read)


def parse_batch(container: Container, run: TaskRun, arguments: dict[str, Any]):
    s = container.settings
    catalogues = sources_to_read(container, arguments)
    timeout = (5.0, s.fetch_timeout_s)
    store = RedisDocumentStore(container.redis, s.prefix)

    def read(source: str, on_progress) -> Iterator[Any]:
        return csv_catalogue.read_linked_documents(
            source, on_progress=on_progress, timeout=timeout
        )

    return parse_linked_documents(run, catalogues, read, parse_document, store)


def train_rag(container: Container, run: TaskRun, arguments: dict[str, Any]):
    s = container.settings
    store = RedisDocumentStore(container.redis, s.prefix)
    index = SqliteSearchIndexBuilder(index_folder(s, run.task_id))
    pointer = RedisIndexPointer(container.redis, s.prefix)
    return build_search_index(run, store, index, pointer.set)


def index_folder(settings: Settings, task_id: str) -> Path:
    """Where the task's search index is built: its own folder under the data dir."""
    return (Path(settings.data_dir) / "indexes" / task_id).resolve()


def sources_to_read(container: Container, arguments: dict[str, Any]) -> list[str]:
    """The catalogues a task reads: the ones it was given, checked again now that
    folders are listed and links resolved, or else the configured defaults."""
    given = arguments.get("sources")
    if not given:
        return expand(container.settings.default_sources)
    return list(check_sources(expand(given), container.source_policy))


def expand(sources) -> list[str]:
    """Folders become the catalogues inside them, in name order."""
    expanded: list[str] = []
    for source in sources:
        if "://" not in source and Path(source).is_dir():
            expanded.extend(str(p) for p in csv_catalogue.list_catalogues(source))
        else:
            expanded.append(source)
    return expanded
