"""Documents that catalogues link to: what reading and parsing one yields, how its
kind is told, and the rules for its text, title and language.

Everything here is pure; reading, parsing, storing and indexing happen behind the
ports at the end of this module.
"""

from __future__ import annotations

import abc
import codecs
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from domain.errors import DomainError

TEXT = "text"
HTML = "html"
PDF = "pdf"
KINDS = (TEXT, HTML, PDF)

TITLE_LENGTH = 200
LANGUAGE_SAMPLE = 20_000
LANGUAGE_MIN_LETTERS = 20

_HTML_EXTENSIONS = (".html", ".htm", ".xhtml")
_HTML_OPENINGS = (b"<!doctype html", b"<html")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class UnparsableDocumentError(DomainError):
    """A document cannot be turned into text; ``reason`` says why, for a person."""

    def __init__(self, link: str, reason: str):
        self.link = link
        self.reason = reason
        super().__init__(f"document {link}: {reason}")


class EmptyCorpusError(DomainError):
    """An index was asked for while no norm has a parsed document."""

    def __init__(self) -> None:
        super().__init__("no norm has a parsed document yet; parse a batch first")


class DocumentJobError(Exception):
    """A document job stopped early; ``report`` holds what it had done by then."""

    def __init__(self, cause: BaseException, report: dict[str, Any]):
        super().__init__(str(cause))
        self.cause = cause
        self.report = report


@dataclass(frozen=True, kw_only=True)
class SourceDocument:
    """A document as a catalogue row links to it: the norm it belongs to, the link
    as written, the catalogue line, and the document's bytes."""

    code: str
    title: str
    link: str
    line: int
    content: bytes = field(repr=False)

    @property
    def checksum(self) -> str:
        """The SHA-256 of the content, in hex: a document's identity."""
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True, kw_only=True)
class ParsedDocument:
    """A document's text and what is known about it, identified by ``checksum``;
    ``code`` is the norm that first linked it, ``pages`` is 0 unless a PDF."""

    checksum: str
    code: str
    link: str
    kind: str
    title: str
    size: int
    pages: int = 0
    language: str = ""
    text: str = field(default="", repr=False)

    @property
    def chars(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class DocumentFailure:
    """A linked document that could not be read or parsed, and why."""

    code: str
    document: str
    reason: str


@dataclass(frozen=True)
class BuiltIndex:
    """A finished search index: where it lies and how big it came out."""

    location: str
    bytes: int
    documents: int
    terms: int | None = None


def document_kind(link: str, head: bytes) -> str:
    """The kind of a document from its first bytes, then from its name: a PDF
    header, an HTML opening tag, an HTML or PDF extension; anything else is text.

    Raises UnparsableDocumentError for binary content of another kind."""
    opening = head.removeprefix(codecs.BOM_UTF8).lstrip()[:1024].lower()
    if b"%PDF-" in head[:1024]:
        return PDF
    if opening.startswith(_HTML_OPENINGS) or (
        opening.startswith(b"<") and b"<html" in opening
    ):
        return HTML
    name = link.lower()
    if name.endswith(".pdf"):
        return PDF
    if name.endswith(_HTML_EXTENSIONS):
        return HTML
    if _BINARY_BYTES.search(head) and not head.startswith(_UTF16_BOMS):
        raise UnparsableDocumentError(
            link,
            "binary content of an unsupported kind; plain text, HTML and PDF "
            "are supported",
        )
    return TEXT


def decode_text(link: str, content: bytes) -> str:
    """Plain text from bytes: UTF-16 or UTF-8 when a byte order mark says so, else
    UTF-8, else Windows-1251 (the two encodings Russian documents come in)."""
    if content.startswith(_UTF16_BOMS):
        return _decode(link, content, "utf-16")
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnparsableDocumentError(link, "the text is neither UTF-8 nor Windows-1251")


def _decode(link: str, content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnparsableDocumentError(
            link, f"the text is not valid {encoding}: {error.reason}"
        ) from error


def tidy_text(text: str) -> str:
    """Text with one line-break convention, single spaces, at most one blank line
    in a row and no spaces at line ends."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def first_line(text: str) -> str:
    """The first non-blank line, cut to a title's length: a plain text's title."""
    for line in text.splitlines():
        if line.strip():
            return short_title(line)
    return ""


def short_title(text: str | None) -> str:
    """A title on one line, with single spaces, cut to TITLE_LENGTH characters."""
    return " ".join((text or "").split())[:TITLE_LENGTH]


def guess_language(text: str) -> str:
    """ "ru" or "en" when most letters of the text's start are Cyrillic or Latin;
    "" when there are too few letters to tell or neither script prevails."""
    letters = [c for c in text[:LANGUAGE_SAMPLE] if c.isalpha()]
    if len(letters) < LANGUAGE_MIN_LETTERS:
        return ""
    cyrillic = sum(1 for c in letters if "\u0400" <= c <= "\u04ff")
    latin = sum(1 for c in letters if c.isascii())
    if cyrillic * 2 > len(letters):
        return "ru"
    if latin * 2 > len(letters):
        return "en"
    return ""


class ParseTotals:
    """What a batch did so far: documents parsed, already parsed, failed."""

    def __init__(self) -> None:
        self.parsed = 0
        self.skipped = 0
        self.failed: list[DocumentFailure] = []
        self.bytes = 0
        self.chars = 0

    @property
    def done(self) -> int:
        return self.parsed + self.skipped + len(self.failed)

    def add_parsed(self, document: ParsedDocument) -> None:
        self.parsed += 1
        self.bytes += document.size
        self.chars += document.chars

    def add_skipped(self) -> None:
        self.skipped += 1

    def add_failed(self, failure: DocumentFailure) -> None:
        self.failed.append(failure)

    def report(self, elapsed_s: float) -> dict[str, Any]:
        return {
            "parsed": self.parsed,
            "skipped": self.skipped,
            "failed": [
                {"code": f.code, "document": f.document, "reason": f.reason}
                for f in self.failed
            ],
            "bytes": self.bytes,
            "chars": self.chars,
            "elapsed_s": round(elapsed_s, 3),
        }


class ParsedDocumentStore(abc.ABC):
    """Parsed documents shared by the task types, one per checksum, and which
    document is current for each norm."""

    @abc.abstractmethod
    def has(self, checksum: str) -> bool:
        """Whether a document with this checksum was parsed and stored already."""

    @abc.abstractmethod
    def put(self, document: ParsedDocument) -> bool:
        """Store the document unless its checksum is there; True if it was new."""

    @abc.abstractmethod
    def get(self, checksum: str) -> ParsedDocument | None:
        """The stored document with this checksum, text included; None if absent."""

    @abc.abstractmethod
    def make_current(self, code: str, checksum: str) -> None:
        """Record ``checksum`` as the document the norm ``code`` links to now."""

    @abc.abstractmethod
    def current(self) -> dict[str, str]:
        """Norm code to the checksum of its current document, for every norm."""


class SearchIndexBuilder(abc.ABC):
    """Builds one search index; nothing is searchable before ``finish``."""

    @abc.abstractmethod
    def add(self, code: str, document: ParsedDocument) -> None:
        """Index the document's title and text under the norm ``code``."""

    @abc.abstractmethod
    def finish(self) -> BuiltIndex:
        """Complete the index and say where it is and how big."""

    @abc.abstractmethod
    def discard(self) -> None:
        """Throw away an unfinished index."""
