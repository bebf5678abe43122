"""The full-text search index over parsed documents: SQLite FTS5.

Why FTS5: it ships inside Python's ``sqlite3``, so there is nothing more to install
and no model to download; it ranks by BM25, cuts snippets around the matches and
counts its terms; and an index is one file that the API opens read-only while a
worker builds the next one elsewhere. tantivy would bring a compiled dependency for
a scale we do not have; rank-bm25 holds everything in memory and has neither a file
format nor snippets. Builds check that this Python's SQLite has FTS5.

Outside contract:

- Files: ``<directory>/index.sqlite3``, written as ``index.sqlite3.partial`` and
  renamed when finished, so nobody ever opens a half-built index.
- Table ``documents(code, title, body, checksum UNINDEXED)``; tokenizer
  ``unicode61`` with diacritics removed: case-folded Cyrillic and Latin words,
  ``ё`` matching ``е``.
- Queries: the query's words (letters and digits), each also matching as a prefix,
  any of them may match; ranked by BM25, code and title weighing more than text.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from domain.documents import BuiltIndex, ParsedDocument, SearchIndexBuilder

logger = logging.getLogger(__name__)

INDEX_FILE = "index.sqlite3"
MAX_QUERY_WORDS = 16
SNIPPET_TOKENS = 24

CREATE = """
CREATE VIRTUAL TABLE documents USING fts5(
    code, title, body, checksum UNINDEXED,
    tokenize = "unicode61 remove_diacritics 2"
)
"""
SEARCH = f"""
SELECT code, title, snippet(documents, 2, '', '', '…', {SNIPPET_TOKENS}),
       bm25(documents, 4.0, 2.0, 1.0) AS rank
FROM documents WHERE documents MATCH ? ORDER BY rank LIMIT ?
"""
_WORD = re.compile(r"\w+")


class SearchIndexError(Exception):
    """The search index cannot be built or read; the cause is chained."""


class SearchQueryError(ValueError):
    """A query with nothing to search for."""


@dataclass(frozen=True)
class SearchHit:
    code: str
    title: str
    snippet: str
    score: float


class SqliteSearchIndexBuilder(SearchIndexBuilder):
    """Builds ``<directory>/index.sqlite3``; see the module for the format."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self._final = directory / INDEX_FILE
        self._partial = directory / (INDEX_FILE + ".partial")
        self._partial.unlink(missing_ok=True)
        self._db = sqlite3.connect(self._partial)
        self._documents = 0
        try:
            self._db.execute(CREATE)
        except sqlite3.OperationalError as error:
            self.discard()
            raise SearchIndexError(
                f"this SQLite cannot make an FTS5 table: {error}"
            ) from error

    def add(self, code: str, document: ParsedDocument) -> None:
        self._db.execute(
            "INSERT INTO documents (code, title, body, checksum) VALUES (?, ?, ?, ?)",
            (code, document.title, document.text, document.checksum),
        )
        self._documents += 1

    def finish(self) -> BuiltIndex:
        self._db.execute("INSERT INTO documents (documents) VALUES ('optimize')")
        self._db.commit()
        terms = _count_terms(self._db)
        self._db.close()

        os.replace(self._partial, self._final)

        size = self._final.stat().st_size
        logger.info(
            "search index built at %s: %d documents, %d terms, %d bytes",
            self._final,
            self._documents,
            terms,
            size,
        )
        return BuiltIndex(str(self._final), size, self._documents, terms)

    def discard(self) -> None:
        self._db.close()
        self._partial.unlink(missing_ok=True)


def _count_terms(db: sqlite3.Connection) -> int:
    db.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, documents, row)")
    (count,) = db.execute("SELECT count(*) FROM temp.terms").fetchone()
    return count


def match_expression(query: str) -> str:
    """An FTS5 query from free text: every word quoted (so no word is read as an
    operator) and open at its end, any word matching."""
    words = _WORD.findall(query.casefold())[:MAX_QUERY_WORDS]
    if not words:
        raise SearchQueryError("the query has no letters or digits to search for")
    return " OR ".join(f'"{word}"*' for word in words)


def search(location: str, query: str, limit: int) -> list[SearchHit]:
    """The best ``limit`` documents of the index at ``location`` for ``query``."""
    expression = match_expression(query)
    if not Path(location).is_file():
        raise SearchIndexError(f"the index file {location} is missing on this host")
    try:
        with closing(_open_read_only(location)) as db:
            rows = db.execute(SEARCH, (expression, limit)).fetchall()
    except sqlite3.Error as error:
        raise SearchIndexError(
            f"the index at {location} cannot be read: {error}"
        ) from error
    return [
        SearchHit(code, title, " ".join(snippet.split()), round(-rank, 4))
        for code, title, snippet, rank in rows
    ]


def _open_read_only(location: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(location)}?mode=ro", uri=True)
