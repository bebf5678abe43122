"""The parse batch job: turn the documents catalogues link to into stored text.

A document is known by its checksum: one parsed before, by this task or another,
is skipped. A document that cannot be read or parsed is listed with its reason and
the batch goes on; only a catalogue that cannot be read stops it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from domain.documents import (
    DocumentFailure,
    DocumentJobError,
    ParsedDocument,
    ParsedDocumentStore,
    ParseTotals,
    SourceDocument,
    UnparsableDocumentError,
)
from domain.task_run import TaskRun

ReadDocuments = Callable[
    [str, Callable[[int, int], None]], Iterable[SourceDocument | DocumentFailure]
]
Parse = Callable[[SourceDocument], ParsedDocument]


def parse_batch(
    run: TaskRun,
    catalogues: Sequence[str],
    read: ReadDocuments,
    parse: Parse,
    store: ParsedDocumentStore,
) -> dict[str, Any]:
    """Parse and store every document the ``catalogues`` link to; the report of
    what was parsed, skipped as known and failed."""
    started = time.monotonic()
    totals = ParseTotals()
    try:
        for index, catalogue in enumerate(catalogues):
            position = _Position(index, len(catalogues))
            for item in read(catalogue, position.update):
                run.checkpoint()
                _take(item, parse, store, totals)
                run.record([], progress=(position.percent, totals.done, 0))
    except Exception as exc:
        raise DocumentJobError(exc, totals.report(time.monotonic() - started)) from exc
    return totals.report(time.monotonic() - started)


def _take(item, parse: Parse, store: ParsedDocumentStore, totals: ParseTotals):
    if isinstance(item, DocumentFailure):
        totals.add_failed(item)
        return
    checksum = item.checksum
    if store.has(checksum):
        totals.add_skipped()
    elif not _parse_new(item, parse, store, totals):
        return
    store.make_current(item.code, checksum)


def _parse_new(item: SourceDocument, parse: Parse, store, totals: ParseTotals) -> bool:
    """Parse and store a document not seen before; False if it cannot be parsed."""
    try:
        parsed = parse(item)
    except UnparsableDocumentError as error:
        totals.add_failed(DocumentFailure(item.code, item.link, error.reason))
        return False
    if store.put(parsed):
        totals.add_parsed(parsed)
    else:
        totals.add_skipped()
    return True


class _Position:
    """How far into the catalogues the batch is, from the bytes of the one read."""

    def __init__(self, index: int, count: int):
        self._index = index
        self._count = count
        self._fraction = 0.0

    def update(self, done: int, total: int) -> None:
        self._fraction = done / total if total else 0.0

    @property
    def percent(self) -> float:
        return 100.0 * (self._index + self._fraction) / self._count
