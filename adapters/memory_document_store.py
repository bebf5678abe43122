"""Parsed documents in memory, for tests and single-process tools."""

from __future__ import annotations

import threading

from domain.documents import ParsedDocument, ParsedDocumentStore


class InMemoryDocumentStore(ParsedDocumentStore):
    """The parsed document store in one process's memory; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._documents: dict[str, ParsedDocument] = {}
        self._current: dict[str, str] = {}

    def has(self, checksum: str) -> bool:
        return checksum in self._documents

    def put(self, document: ParsedDocument) -> bool:
        with self._lock:
            if document.checksum in self._documents:
                return False
            self._documents[document.checksum] = document
            return True

    def get(self, checksum: str) -> ParsedDocument | None:
        return self._documents.get(checksum)

    def make_current(self, code: str, checksum: str) -> None:
        with self._lock:
            self._current[code] = checksum

    def current(self) -> dict[str, str]:
        with self._lock:
            return dict(self._current)

    def forget(self, checksum: str) -> None:
        """Drop a document, as an expired or deleted key would."""
        with self._lock:
            self._documents.pop(checksum, None)
