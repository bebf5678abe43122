"""The train RAG job: build a search index over the current document of every norm.

Each run builds a new index of its own; only a finished one is published as the
current index, so searches never see a half-built one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from domain.documents import (
    DocumentJobError,
    EmptyCorpusError,
    ParsedDocumentStore,
    SearchIndexBuilder,
)
from domain.task_run import TaskRun


def train_rag(
    run: TaskRun,
    store: ParsedDocumentStore,
    index: SearchIndexBuilder,
    publish: Callable[[str], None],
) -> dict[str, Any]:
    """Index the current parsed document of each norm, publish the index's location
    as the current one, and report its size and build time."""
    started = time.monotonic()
    counts = {"documents": 0, "missing": 0}
    try:
        _add_all(run, store, index, counts)
        built = index.finish()
    except Exception as exc:
        index.discard()
        report = {**counts, "elapsed_s": _since(started)}
        raise DocumentJobError(exc, report) from exc

    publish(built.location)

    return {
        "documents": built.documents,
        "missing": counts["missing"],
        "terms": built.terms,
        "bytes": built.bytes,
        "index": built.location,
        "elapsed_s": _since(started),
    }


def _add_all(run: TaskRun, store, index: SearchIndexBuilder, counts) -> None:
    """Add each norm's current document, in code order; a document that has left
    the store since is counted as missing."""
    current = sorted(store.current().items())
    if not current:
        raise EmptyCorpusError()
    for done, (code, checksum) in enumerate(current, start=1):
        run.checkpoint()
        document = store.get(checksum)
        if document is None:
            counts["missing"] += 1
        else:
            index.add(code, document)
            counts["documents"] += 1
        run.record([], progress=(100.0 * done / len(current), done, len(current)))


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
