"""Norms catalogues in CSV, from a local file or an http(s) URL, read as catalogue
entries and rejected rows.

Outside contract:

- Source: a local path, or an ``http``/``https`` URL. A URL is downloaded, streamed,
  to a temporary file that is removed when reading ends; no other scheme is fetched.
  No retries here: a ``CatalogueFetchError`` says whether retrying may help
  (connection failures, timeouts, 5xx, 408, 425 and 429 are transient; other 4xx and
  3xx are permanent).
- Encoding: UTF-8 (with or without a BOM), else Windows-1251. Before reading, the whole
  file is run once through strict incremental decoders for both, in fixed chunks, so
  the choice rests on every byte while memory stays flat; UTF-8 wins when both fit.
  NUL or other control bytes mean the file is not text.
- Delimiter: ``,`` or ``;``, told by ``csv.Sniffer`` from the first 64 KiB; when the
  sniffer cannot tell, the one the header line holds more of.
- Header: the first non-blank line, English (code, title, kind, edition, status,
  superseded_by, replaces, document) or Russian (Обозначение, Наименование, Вид,
  Редакция, Статус, Заменён на, Взамен, Документ), matched regardless of case, BOM,
  spaces, underscores and ё/е. code, title, edition and status are required; unknown
  columns are ignored.
- Lines: every row carries the physical line it starts on (the header is line 1 when
  it opens the file); a quoted value spanning lines moves later rows down accordingly.
  Blank rows are skipped.
- Documents: the ``document`` column is a path relative to the catalogue's folder (for
  a URL, relative to the URL's folder, fetched too). Its SHA-256 and size go onto the
  norm. A link that leaves that folder, is missing or answers 4xx rejects its row; a
  transient failure fetching a document raises, as for the catalogue itself.
- Document contents: ``read_linked_documents`` follows the same links under the same
  rules and yields each document's bytes, up to ``max_bytes``; a link it cannot
  follow becomes a ``DocumentFailure`` rather than a rejected row.
- Progress: ``on_progress(bytes_read, total_bytes)`` is called after every row and
  once at the end; bytes are counted in the (downloaded) file, in 8 KiB steps.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import os
import posixpath
import re
import stat
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests

if TYPE_CHECKING:
    import _csv

from domain.documents import DocumentFailure, SourceDocument
from domain.norms import (
    CatalogueEntry,
    CatalogueFetchError,
    CatalogueUnreadableError,
    LinkedDocument,
    RejectedRow,
    entry_from_row,
)

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 16
MAX_DOWNLOAD_BYTES = 1 << 30
SNIFF_SIZE = 1 << 16
DEFAULT_TIMEOUT = (5.0, 30.0)  # seconds to connect, seconds between received bytes
MAX_DOCUMENT_BYTES = 64 << 20
TRANSIENT_STATUSES = frozenset({408, 425, 429})
_TRANSIENT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

ProgressHook = Callable[[int, int], None]
CatalogueItem = CatalogueEntry | RejectedRow
LinkedItem = SourceDocument | DocumentFailure

_HEADER_ALIASES = {
    "code": ("code", "обозначение"),
    "title": ("title", "наименование"),
    "kind": ("kind", "вид"),
    "edition": ("edition", "редакция"),
    "status": ("status", "статус"),
    "superseded_by": ("superseded by", "заменен на"),
    "replaces": ("replaces", "взамен"),
    "document": ("document", "документ"),
}
_HEADER_NAMES = {
    alias: name for name, aliases in _HEADER_ALIASES.items() for alias in aliases
}
_REQUIRED_COLUMNS = ("code", "title", "edition", "status")
# Tab, line breaks, form feed, DOS end-of-file and escape may appear in text files.
_NOT_TEXT = re.compile(rb"[\x00-\x08\x0e-\x19\x1c-\x1f]")


class _DocumentError(Exception):
    """A row's document link cannot be used; the message is the rejection reason."""


class _NotTextError(Exception):
    """The bytes are not text in a supported encoding."""


def list_catalogues(folder: str | os.PathLike[str]) -> list[Path]:
    """The CSV files directly inside ``folder``, sorted by name; office lock files and
    hidden files are left out."""
    path = Path(folder)
    if not path.is_dir():
        raise CatalogueUnreadableError(str(path), "is not a folder.")
    return sorted(
        child
        for child in path.iterdir()
        if child.is_file()
        and child.suffix.lower() == ".csv"
        and not child.name.startswith((".", "~$"))
    )


def read_catalogue(
    source: str | os.PathLike[str],
    *,
    on_progress: ProgressHook | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> Iterator[CatalogueItem]:
    """Entries and rejected rows of one catalogue, in file order, read lazily.

    Raises CatalogueUnreadableError or CatalogueFetchError on first iteration.
    """
    yield from _read(os.fspath(source), on_progress, timeout, _described)


def read_linked_documents(
    source: str | os.PathLike[str],
    *,
    on_progress: ProgressHook | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Iterator[LinkedItem]:
    """The documents that valid rows of one catalogue link to, with their bytes, in
    file order; a link that cannot be followed as a DocumentFailure. Rows without a
    link and rejected rows are left out.

    Raises as ``read_catalogue`` does, and CatalogueFetchError for a transient
    failure fetching a document."""
    follow = partial(_loaded, max_bytes=max_bytes)
    for item in _read(os.fspath(source), on_progress, timeout, follow):
        if isinstance(item, (SourceDocument, DocumentFailure)):
            yield item


def _read(
    text: str, on_progress: ProgressHook | None, timeout: tuple[float, float], follow
) -> Iterator[CatalogueItem | LinkedItem]:
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme in ("http", "https"):
        yield from _read_remote(text, on_progress, timeout, follow)
    elif scheme:
        raise CatalogueUnreadableError(
            _without_credentials(text),
            f"scheme '{scheme}' is not supported; give an http(s) URL or a local path.",
        )
    else:
        path = Path(text)
        documents = _LocalDocuments(path.parent)
        yield from _read_file(path, str(path), documents, on_progress, follow)


def _read_remote(
    url: str, on_progress: ProgressHook | None, timeout: tuple[float, float], follow
) -> Iterator[CatalogueItem | LinkedItem]:
    shown = _without_credentials(url)
    with requests.Session() as http:
        path = _download(http, url, shown, timeout)
        try:
            documents = _RemoteDocuments(http, url, timeout)
            yield from _read_file(path, shown, documents, on_progress, follow)
        finally:
            path.unlink(missing_ok=True)


def _download(
    http: requests.Session, url: str, shown: str, timeout: tuple[float, float]
) -> Path:
    handle, name = tempfile.mkstemp(prefix="catalogue-", suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in _fetch(http, url, shown, timeout):
                out.write(chunk)
                if out.tell() > MAX_DOWNLOAD_BYTES:
                    raise CatalogueFetchError(
                        shown,
                        f"the catalogue is over {MAX_DOWNLOAD_BYTES} bytes.",
                        transient=False,
                    )
    except BaseException:
        os.unlink(name)
        raise
    logger.debug("Downloaded catalogue %s to %s", shown, name)
    return Path(name)


def _fetch(
    http: requests.Session, url: str, shown: str, timeout: tuple[float, float]
) -> Iterator[bytes]:
    try:
        with http.get(
            url, stream=True, timeout=timeout, allow_redirects=False
        ) as response:
            _check_status(response, shown)
            yield from response.iter_content(CHUNK_SIZE)
    except requests.RequestException as error:
        transient = isinstance(error, _TRANSIENT_ERRORS) and not isinstance(
            error, requests.exceptions.SSLError
        )
        reason = f"fetching failed ({type(error).__name__})"
        if transient:
            reason += "; the connection broke or timed out, try again later"
        raise CatalogueFetchError(shown, reason + ".", transient=transient) from error


def _check_status(response: requests.Response, shown: str) -> None:
    status = response.status_code
    if status < 300:
        return
    if status < 400:
        raise CatalogueFetchError(
            shown,
            f"the server answered HTTP {status}: redirects are not followed;"
            " give the final address.",
            transient=False,
            status=status,
        )
    transient = status >= 500 or status in TRANSIENT_STATUSES
    raise CatalogueFetchError(
        shown,
        f"the server answered HTTP {status} {response.reason}.",
        transient=transient,
        status=status,
    )


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class _LocalDocuments:
    """Documents linked from a catalogue on disk, confined to its folder."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder.resolve()

    def describe(self, link: str) -> LinkedDocument:
        return _digest(self.chunks(link))

    def chunks(self, link: str) -> Iterator[bytes]:
        try:
            target = (self._folder / link.replace("\\", "/")).resolve()
            exists = target.is_file()
        except (OSError, RuntimeError) as error:
            raise _DocumentError(f"Document '{link[:200]}' cannot be found: {error}.")
        if not target.is_relative_to(self._folder):
            raise _DocumentError(f"Document '{link}' is outside the catalogue folder.")
        if not exists:
            raise _DocumentError(f"Document '{link}' does not exist.")
        try:
            with target.open("rb") as body:
                yield from iter(partial(body.read, CHUNK_SIZE), b"")
        except OSError as error:
            raise _DocumentError(
                f"Document '{link}' cannot be read: {error.strerror}."
            ) from error


class _RemoteDocuments:
    """Documents linked from a catalogue URL, fetched from below the URL's folder."""

    def __init__(
        self, http: requests.Session, url: str, timeout: tuple[float, float]
    ) -> None:
        parts = urlsplit(url)
        folder = posixpath.dirname(parts.path).rstrip("/") + "/"
        self._base = urlunsplit(parts._replace(path=folder, query="", fragment=""))
        self._http = http
        self._timeout = timeout

    def describe(self, link: str) -> LinkedDocument:
        return _digest(self.chunks(link))

    def chunks(self, link: str) -> Iterator[bytes]:
        target = urljoin(self._base, link.replace("\\", "/"))
        if not self._inside(target):
            raise _DocumentError(f"Document '{link}' is outside the catalogue folder.")
        shown = _without_credentials(target)
        try:
            yield from _fetch(self._http, target, shown, self._timeout)
        except CatalogueFetchError as error:
            if error.transient:
                raise
            raise _DocumentError(
                f"Document '{link}' could not be fetched: {error.reason}"
            ) from error

    def _inside(self, target: str) -> bool:
        base, candidate = urlsplit(self._base), urlsplit(target)
        folder = unquote(base.path)
        path = posixpath.normpath(unquote(candidate.path)) + "/"
        return (
            (candidate.scheme, candidate.netloc) == (base.scheme, base.netloc)
            and path.startswith(folder)
            and path != folder
        )


def _digest(chunks: Iterable[bytes]) -> LinkedDocument:
    checksum = hashlib.sha256()
    size = 0
    for chunk in chunks:
        checksum.update(chunk)
        size += len(chunk)
    return LinkedDocument(checksum.hexdigest(), size)


def _described(entry: CatalogueEntry, link: str, documents) -> CatalogueItem:
    """The entry with its document's checksum and size, or the row rejected."""
    try:
        return entry.with_document(documents.describe(link))
    except _DocumentError as problem:
        return RejectedRow(entry.line, str(problem))


def _loaded(entry: CatalogueEntry, link: str, documents, max_bytes: int) -> LinkedItem:
    """The document the entry links to, with its bytes, or why it cannot be had."""
    norm = entry.norm
    content = bytearray()
    try:
        with closing(documents.chunks(link)) as chunks:
            for chunk in chunks:
                content += chunk
                if len(content) > max_bytes:
                    raise _DocumentError(
                        f"Document '{link}' is over {max_bytes} bytes."
                    )
    except _DocumentError as problem:
        return DocumentFailure(norm.code, link, str(problem))
    return SourceDocument(
        code=norm.code,
        title=norm.title,
        link=link,
        line=entry.line,
        content=bytes(content),
    )


def _read_file(
    path: Path,
    shown: str,
    documents: _LocalDocuments | _RemoteDocuments,
    on_progress: ProgressHook | None,
    follow,
) -> Iterator[CatalogueItem | LinkedItem]:
    total, encoding = _inspect(path, shown)
    delimiter = _sniff_delimiter(path, encoding)
    logger.debug("Reading catalogue %s as %s, delimiter %r", shown, encoding, delimiter)

    with (
        path.open("rb") as binary,
        io.TextIOWrapper(binary, encoding=encoding, newline="") as text,
    ):
        rows = _rows(csv.reader(text, delimiter=delimiter), shown)
        header = next(rows, (0, []))[1]
        columns = _columns(header, shown)
        follow_link = partial(follow, documents=documents)
        for line, cells in rows:
            yield _item(line, cells, len(header), columns, follow_link)
            if on_progress is not None:
                on_progress(binary.tell(), total)

    if on_progress is not None:
        on_progress(total, total)


def _inspect(path: Path, shown: str) -> tuple[int, str]:
    """The size of the file and the encoding to read it with."""
    try:
        if path.exists() and not (path.is_dir() or stat.S_ISREG(path.stat().st_mode)):
            raise CatalogueUnreadableError(shown, "is not a regular file.")
        with path.open("rb") as binary:
            encoding = _detect_encoding(iter(partial(binary.read, CHUNK_SIZE), b""))
            size = binary.tell()
    except FileNotFoundError as error:
        raise CatalogueUnreadableError(shown, "the file does not exist.") from error
    except IsADirectoryError as error:
        raise CatalogueUnreadableError(shown, "is a folder, not a file.") from error
    except OSError as error:
        raise CatalogueUnreadableError(
            shown, f"the file cannot be opened: {error.strerror}."
        ) from error
    except _NotTextError as error:
        raise CatalogueUnreadableError(shown, str(error)) from error

    if size == 0:
        raise CatalogueUnreadableError(shown, "the file is empty.")
    return size, encoding


# A Cyrillic letter in UTF-8 is D0 or D1 and a byte from 80 to BF; in Windows-1251
# that pair reads as «Р» or «С» followed by a rare sign, so a file that is not valid
# UTF-8 yet holds many such pairs is UTF-8 with a few rows in another encoding.
_UTF8_CYRILLIC = re.compile(rb"[\xd0\xd1][\x80-\xbf]")
MIXED_ENCODING_LETTERS = 20


def _detect_encoding(chunks: Iterable[bytes]) -> str:
    decoders = {
        "utf-8-sig": codecs.getincrementaldecoder("utf-8")(),
        "cp1251": codecs.getincrementaldecoder("cp1251")(),
    }
    offset = utf8_letters = 0
    for chunk in chunks:
        if offset == 0 and chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise _NotTextError(
                "it is UTF-16; save it as CSV in UTF-8 or Windows-1251."
            )
        control = _NOT_TEXT.search(chunk)
        if control:
            raise _NotTextError(
                f"byte {offset + control.start()} is a control byte, so this is not a"
                " text file; export the catalogue as CSV."
            )
        decoders = {k: d for k, d in decoders.items() if _decodes(d, chunk)}
        utf8_letters += len(_UTF8_CYRILLIC.findall(chunk))
        offset += len(chunk)

    decoders = {k: d for k, d in decoders.items() if _decodes(d, b"", final=True)}
    if not decoders:
        raise _NotTextError("it is neither UTF-8 nor Windows-1251 text.")
    chosen = next(iter(decoders))
    if chosen == "cp1251" and utf8_letters >= MIXED_ENCODING_LETTERS:
        raise _NotTextError(
            "it mixes encodings: most of it is UTF-8 but some rows are not; save it "
            "again in one encoding."
        )
    return chosen


def _decodes(
    decoder: codecs.IncrementalDecoder, chunk: bytes, final: bool = False
) -> bool:
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as text:
        sample = text.read(SNIFF_SIZE) + text.readline(SNIFF_SIZE)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;").delimiter
    except csv.Error:
        first_line = sample.lstrip().partition("\n")[0]
        return ";" if first_line.count(";") > first_line.count(",") else ","


def _rows(reader: _csv.Reader, shown: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records, each with the physical line it starts on."""
    last_line = 0
    try:
        for cells in reader:
            start, last_line = last_line + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                yield start, cells
    except (csv.Error, UnicodeDecodeError) as error:
        raise CatalogueUnreadableError(
            shown, f"line {last_line + 1} cannot be parsed: {error}."
        ) from error


def _header_key(cell: str) -> str:
    text = unicodedata.normalize("NFC", cell).replace("\ufeff", "").replace("_", " ")
    return " ".join(text.split()).casefold().replace("ё", "е")


def _columns(header: list[str], shown: str) -> list[tuple[int, str]]:
    """Positions of the known columns; the file is unreadable without the required."""
    keys = [(i, _header_key(cell)) for i, cell in enumerate(header)]
    found = [(i, _HEADER_NAMES[key]) for i, key in keys if key in _HEADER_NAMES]
    names = [name for _, name in found]
    if not found:
        raise CatalogueUnreadableError(
            shown,
            f"no recognisable header in its first line ({len(header)} cells); expected"
            " columns code, title, edition, status or Обозначение, Наименование,"
            " Редакция, Статус.",
        )

    missing = [name for name in _REQUIRED_COLUMNS if name not in names]
    if missing:
        raise CatalogueUnreadableError(
            shown, f"the header lacks required columns: {', '.join(missing)}."
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CatalogueUnreadableError(
            shown, f"the header repeats columns: {', '.join(repeated)}."
        )
    return found


def _item(
    line: int,
    cells: list[str],
    width: int,
    columns: list[tuple[int, str]],
    follow: Callable[..., CatalogueItem | LinkedItem],
) -> CatalogueItem | LinkedItem:
    if any(cell.strip() for cell in cells[width:]):
        return RejectedRow(
            line,
            f"Row has {len(cells)} values but the header has {width}; a value may"
            " hold an unquoted delimiter.",
        )
    row = {name: cells[i] if i < len(cells) else "" for i, name in columns}
    item = entry_from_row(line, row)
    link = row.get("document", "").strip()
    if isinstance(item, RejectedRow) or not link:
        return item
    return follow(item, link)
