"""The norms registry: what a norm is, how a catalogue row becomes one, and what a
catalogue changes in the registry.

Everything here is pure: reading catalogues and storing facts happen elsewhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from domain.errors import DomainError

SP = "SP"
GOST = "GOST"
KINDS = (SP, GOST)
ACTIVE = "active"
SUPERSEDED = "superseded"
STATUSES = (ACTIVE, SUPERSEDED)

CATALOGUE_FIELDS = tuple(
    "code title kind edition status superseded_by replaces document".split()
)

MAX_CODE_LENGTH = 120
MAX_TITLE_LENGTH = 2000
FIRST_EDITION_YEAR = 1900
LAST_EDITION_YEAR = 2100

_KIND_NAMES = {"sp": SP, "сп": SP, "gost": GOST, "гост": GOST}
_STATUS_NAMES = {
    "active": ACTIVE,
    "действует": ACTIVE,
    "superseded": SUPERSEDED,
    "заменен": SUPERSEDED,
}
_CODE_PREFIX_KINDS = (("СП", SP), ("ГОСТ", GOST))

# Latin letters that print like Cyrillic ones; spreadsheets and OCR mix them up.
_LOOKALIKES = str.maketrans("ABCEHKMOPTXYaceopxy", "АВСЕНКМОРТХУасеорху")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_DIGIT = re.compile(r"\d")


class CatalogueError(DomainError):
    """A catalogue could not be read; names the source and a reason to act on."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"Catalogue {source}: {reason}")
        self.source = source
        self.reason = reason


class CatalogueUnreadableError(CatalogueError):
    """The catalogue is missing, not text or headerless; retrying will not help."""


class CatalogueFetchError(CatalogueError):
    """The catalogue could not be fetched; ``transient`` says if a retry may help."""

    def __init__(
        self, source: str, reason: str, *, transient: bool, status: int | None = None
    ) -> None:
        super().__init__(source, reason)
        self.transient = transient
        self.status = status


@dataclass(frozen=True, kw_only=True, slots=True)
class Norm:
    """One edition of a construction norm as the registry knows it."""

    code: str
    title: str
    kind: str
    edition: int
    status: str = ACTIVE
    superseded_by: str = ""
    replaces: str = ""
    checksum: str = ""
    document_size: int = 0


NORM_FIELDS = tuple(f.name for f in fields(Norm))


@dataclass(frozen=True)
class LinkedDocument:
    """The document a catalogue row links to: its SHA-256 (hex) and size in bytes."""

    checksum: str
    size: int


@dataclass(frozen=True)
class CatalogueEntry:
    """A valid catalogue row: the norm it states and the line it starts on."""

    line: int
    norm: Norm

    def with_document(self, document: LinkedDocument) -> CatalogueEntry:
        """The same entry with its linked document recorded on the norm."""
        norm = replace(
            self.norm, checksum=document.checksum, document_size=document.size
        )
        return CatalogueEntry(self.line, norm)


@dataclass(frozen=True)
class RejectedRow:
    """A catalogue row that is left out, with the line it starts on and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class Registration:
    """The registry does not know this norm yet."""

    line: int
    norm: Norm


@dataclass(frozen=True)
class Supersession:
    """A known active norm is now superseded by ``norm.superseded_by``; nothing else
    changed."""

    line: int
    norm: Norm


@dataclass(frozen=True)
class Revision:
    """A known norm changed in the listed fields; ``norm`` is how it reads now."""

    line: int
    norm: Norm
    changed_fields: tuple[str, ...]


@dataclass(frozen=True)
class NoChange:
    """The catalogue states a known norm exactly as the registry has it."""

    line: int
    code: str


@dataclass(frozen=True)
class Duplicate:
    """An exact repeat of a row earlier in the same catalogue; it counts once."""

    line: int
    code: str
    first_line: int


Decision = Registration | Supersession | Revision | NoChange | Duplicate | RejectedRow


class _RowError(ValueError):
    """A catalogue row breaks a rule; the message is the rejection reason."""


def normalise_code(raw: str) -> str:
    """The canonical spelling of a norm code: NFC, single plain spaces, no edge
    spaces, Cyrillic letters in the prefix; the numeric part is kept as written."""
    if not raw:
        return ""
    words = unicodedata.normalize("NFC", raw.translate(_INVISIBLE)).split()
    for i, word in enumerate(words):
        if _DIGIT.search(word):
            break
        words[i] = _cyrillic_lookalikes(word)
    return unicodedata.normalize("NFC", " ".join(words))


def _cyrillic_lookalikes(word: str) -> str:
    # A word of Latin letters such as "ISO" or "EN" is a real Latin word, unless
    # every letter of it has a Cyrillic twin or it already mixes in Cyrillic.
    twin = word.translate(_LOOKALIKES)
    if twin == word:
        return word
    letters = [c for c in word if c.isalpha()]
    cyrillic = any("CYRILLIC" in unicodedata.name(c, "") for c in letters)
    all_twins = all(c.translate(_LOOKALIKES) != c for c in letters)
    return twin if cyrillic or all_twins else word


def _clean_text(raw: str) -> str:
    text = raw if raw.isprintable() else _without_controls(raw)
    return " ".join(unicodedata.normalize("NFC", text).split())


def _without_controls(raw: str) -> str:
    """Control characters become spaces; invisible format characters go."""
    kept = {"Cc": " ", "Cf": ""}
    return "".join(kept.get(unicodedata.category(c), c) for c in raw)


def entry_from_row(line: int, row: Mapping[str, str]) -> CatalogueEntry | RejectedRow:
    """A catalogue row (field name to text, see CATALOGUE_FIELDS) as an entry, or the
    reason it is rejected. The document link is left for the reader to resolve."""
    try:
        norm = _norm_from_row(row)
    except _RowError as problem:
        return RejectedRow(line, str(problem))
    return CatalogueEntry(line, norm)


def _norm_from_row(row: Mapping[str, str]) -> Norm:
    code = _checked_code(row.get("code", ""), "Code")
    if not code:
        raise _RowError("Code is missing.")
    title = _clean_text(row.get("title", ""))
    if not title:
        raise _RowError(f"Title is missing for {code}.")
    if len(title) > MAX_TITLE_LENGTH:
        raise _RowError(f"Title of {code} is over {MAX_TITLE_LENGTH} characters.")

    superseded_by = _checked_code(row.get("superseded_by", ""), "Superseded-by code")
    if superseded_by == code:
        raise _RowError(f"Norm {code} cannot be superseded by itself.")
    return Norm(
        code=code,
        title=title,
        kind=_kind(row.get("kind", ""), code),
        edition=_edition(row.get("edition", "")),
        status=_status(row.get("status", "")),
        superseded_by=superseded_by,
        replaces=_checked_code(row.get("replaces", ""), "Replaced code"),
    )


def _checked_code(raw: str, what: str) -> str:
    """A normalised code, refused when too long or holding control or format
    characters that would make two codes look alike but differ."""
    code = normalise_code(raw)
    if len(code) > MAX_CODE_LENGTH:
        raise _RowError(f"{what} is over {MAX_CODE_LENGTH} characters.")
    hidden = ("Cc", "Cf", "Co", "Cn")
    if not code.isprintable() and any(unicodedata.category(c) in hidden for c in code):
        raise _RowError(f"{what} {code!r} holds invisible or control characters.")
    return code


def _kind(raw: str, code: str) -> str:
    text = _clean_text(raw)
    if not text:
        return _kind_of_code(code)
    kind = _KIND_NAMES.get(text.casefold()) or _KIND_NAMES.get(
        normalise_code(text).casefold()
    )
    if kind is None:
        raise _RowError(f"Kind '{text}' is unknown; expected SP or GOST.")
    return kind


def _kind_of_code(code: str) -> str:
    first_word = code.split()[0]
    for prefix, kind in _CODE_PREFIX_KINDS:
        if first_word == prefix:
            return kind
    raise _RowError(f"Kind is missing and code '{code}' does not show it.")


def _edition(raw: str) -> int:
    text = _clean_text(raw)
    if not text:
        raise _RowError("Edition is missing.")
    if not (text.isascii() and text.isdigit()):
        raise _RowError(f"Edition '{text}' is not a year.")
    year = int(text)
    if not FIRST_EDITION_YEAR <= year <= LAST_EDITION_YEAR:
        raise _RowError(f"Edition '{text}' is not a year.")
    return year


def _status(raw: str) -> str:
    text = _clean_text(raw)
    if not text:
        raise _RowError("Status is missing.")
    status = _STATUS_NAMES.get(text.casefold().replace("ё", "е"))
    if status is None:
        raise _RowError(f"Status '{text}' is unknown; expected active or superseded.")
    return status


def changed_fields(before: Norm, after: Norm) -> tuple[str, ...]:
    """The names of the norm fields whose values differ, in declaration order."""
    return tuple(
        name for name in NORM_FIELDS if getattr(before, name) != getattr(after, name)
    )


def judge(current: Norm | None, entry: CatalogueEntry) -> Decision:
    """What one entry means for the registry, given the norm it has under that code.

    A row without a linked document keeps the document the registry already has.
    """
    if current is None:
        return Registration(entry.line, entry.norm)

    norm = entry.norm
    if not norm.checksum:
        norm = replace(
            norm, checksum=current.checksum, document_size=current.document_size
        )
    changed = changed_fields(current, norm)

    if not changed:
        return NoChange(entry.line, norm.code)
    if _is_supersession(current, norm, changed):
        return Supersession(entry.line, norm)
    return Revision(entry.line, norm, changed)


def _is_supersession(current: Norm, norm: Norm, changed: tuple[str, ...]) -> bool:
    return (
        current.status == ACTIVE
        and norm.status == SUPERSEDED
        and bool(norm.superseded_by)
        and set(changed) <= {"status", "superseded_by"}
    )


@dataclass
class SyncReport:
    """Running totals of one catalogue against the registry.

    Counts are exact; the duplicate lines and rejections kept for display stop at
    ``detail_limit`` so that a bad file cannot grow the report without bound.
    """

    detail_limit: int = 1000
    added: int = 0
    revised: int = 0
    superseded: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejections: int = 0
    duplicate_lines: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Known norms that changed: revised plus superseded."""
        return self.revised + self.superseded

    @property
    def accepted(self) -> int:
        """Distinct norms the catalogue stated validly."""
        return self.added + self.changed + self.unchanged

    @property
    def rows(self) -> int:
        """Every non-blank row read, whatever became of it."""
        return self.accepted + self.duplicates + self.rejections

    def record(self, decision: Decision) -> None:
        """Count one decision."""
        match decision:
            case Registration():
                self.added += 1
            case Supersession():
                self.superseded += 1
            case Revision():
                self.revised += 1
            case NoChange():
                self.unchanged += 1
            case Duplicate(line=line):
                self.duplicates += 1
                if len(self.duplicate_lines) < self.detail_limit:
                    self.duplicate_lines.append(line)
            case RejectedRow(line=line, reason=reason):
                self.rejections += 1
                if len(self.rejected) < self.detail_limit:
                    self.rejected.append((line, reason))

    def summary(self) -> dict[str, Any]:
        """The totals as plain values, fit for a task's final report."""
        return {
            "added": self.added,
            "changed": self.changed,
            "revised": self.revised,
            "superseded": self.superseded,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "duplicate_lines": list(self.duplicate_lines),
            "rejections": self.rejections,
            "rejected": [list(item) for item in self.rejected],
        }


class Comparison(Iterator[Decision]):
    """The decisions for one catalogue against the registry, made lazily in file
    order; ``report`` holds the totals so far.

    Entries are read once. Memory grows with the distinct codes of the catalogue,
    not with its rows. A catalogue never withdraws the norms it does not mention.
    """

    def __init__(
        self,
        known: Mapping[str, Norm],
        entries: Iterable[CatalogueEntry | RejectedRow],
    ) -> None:
        self.report = SyncReport()
        self._known = known
        self._entries = iter(entries)
        self._seen: dict[str, tuple[int, Norm]] = {}

    def __next__(self) -> Decision:
        decision = self._decide(next(self._entries))
        self.report.record(decision)
        return decision

    def _decide(self, item: CatalogueEntry | RejectedRow) -> Decision:
        if isinstance(item, RejectedRow):
            return item
        code = item.norm.code
        if code in self._seen:
            return _repeat(item, *self._seen[code])

        self._seen[code] = (item.line, item.norm)
        return judge(self._known.get(code), item)


def _repeat(entry: CatalogueEntry, first_line: int, first: Norm) -> Decision:
    if entry.norm == first:
        return Duplicate(entry.line, first.code, first_line)
    differences = ", ".join(changed_fields(first, entry.norm))
    return RejectedRow(
        entry.line,
        f"Code {first.code} already appears on line {first_line}; "
        f"this row differs in {differences}.",
    )


def compare(
    known: Mapping[str, Norm], entries: Iterable[CatalogueEntry | RejectedRow]
) -> Comparison:
    """Decide, row by row, what a catalogue changes in the registry ``known``
    (code to norm). Rejected rows pass through as decisions and are counted."""
    return Comparison(known, entries)
