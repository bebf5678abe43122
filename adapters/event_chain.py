"""Checks the tamper chain of stream entries (see ``event_codec.chain_hash``).

Each entry stores ``prev`` (the hash of the entry before it) and ``hash`` (over
``prev`` and its own values). Walking the entries in order with one entry of
look-ahead tells the kinds of tampering apart:

- changed: the entry's values no longer give its hash;
- inserted: the next entry (or the chain head) links to the entry before this one,
  so the chain goes around it (also when the inserted entry itself links well);
- removed: the entry is whole but links to a hash that is not its predecessor's,
  so something between them is gone (or the predecessor was rewritten together
  with its hash, which the chain alone cannot tell apart).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from adapters.event_codec import FIELD_ORDER, chain_hash

Entry = tuple[str, dict[str, str]]


@dataclass(frozen=True)
class ChainBreak:
    """The first place the chain does not hold: ``position`` is the entry found
    changed or inserted, or the entry after a removal ("" at the end)."""

    kind: str
    position: str
    after: str
    reason: str


@dataclass(frozen=True)
class ChainReport:
    """How many entries were found intact, up to which position and hash."""

    checked: int
    last_position: str
    last_hash: str
    broken: ChainBreak | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


def entry_hash(fields: dict[str, str]) -> str | None:
    """The hash the entry's values give; None if a field is missing."""
    if any(name not in fields for name in FIELD_ORDER + ("prev",)):
        return None
    return chain_hash(fields["prev"], [fields[name] for name in FIELD_ORDER])


def verify(
    entries: Iterable[Entry],
    start_hash: str = "",
    start_position: str = "0-0",
    head_hash: str | None = None,
) -> ChainReport:
    """Walk ``entries`` (oldest first) from a chain that ended at ``start_hash``;
    ``head_hash`` is what the store says the newest hash is (None: unknown)."""
    good = _Walk(start_position, start_hash)
    for (position, fields), next_prev in _with_next_prev(entries, head_hash):
        kind = _kind_of_break(fields, good, next_prev)
        if kind == "inserted before":
            return good.forged_last()
        if kind:
            return good.broken(kind, position)
        good.accept(position, fields["hash"])
    if head_hash is not None and head_hash != good.last_hash:
        if head_hash == good.older_hash:
            return good.forged_last()
        return good.broken("removed", "", REASONS["removed at end"])
    return good.report()


class _Walk:
    """The entries found intact so far: how many, and the last two of them."""

    def __init__(self, position: str, hash_: str):
        self.count = 0
        self.last: deque[tuple[str, str]] = deque([(position, hash_)], maxlen=2)

    @property
    def last_hash(self) -> str:
        return self.last[-1][1]

    @property
    def older_hash(self) -> str | None:
        return self.last[0][1] if len(self.last) == 2 else None

    def accept(self, position: str, hash_: str) -> None:
        self.count += 1
        self.last.append((position, hash_))

    def report(self, found: ChainBreak | None = None) -> ChainReport:
        return ChainReport(self.count, *self.last[-1], found)

    def broken(self, kind: str, position: str, reason: str = "") -> ChainReport:
        found = ChainBreak(kind, position, self.last[-1][0], reason or REASONS[kind])
        return self.report(found)

    def forged_last(self) -> ChainReport:
        """The entry accepted last was a well-made forgery: the chain links past it."""
        position, _ = self.last.pop()
        self.count -= 1
        return self.broken("inserted", position)


REASONS = {
    "changed": "its values do not give its stored hash",
    "inserted": "the entry after it links to the entry before it",
    "removed": "it links to a hash that is not its predecessor's: an entry between "
    "them was removed, or the predecessor was rewritten with a new hash",
    "removed at end": "the chain head names a hash after the newest entry: "
    "the newest entries were removed",
}


def _kind_of_break(fields: dict[str, str], good: _Walk, next_prev: str | None) -> str:
    computed = entry_hash(fields)
    whole = computed is not None and computed == fields.get("hash")
    if whole and fields["prev"] == good.last_hash:
        return ""
    if next_prev == good.last_hash:
        return "inserted"
    if whole and fields["prev"] == good.older_hash:
        return "inserted before"
    return "removed" if whole else "changed"


def _with_next_prev(
    entries: Iterable[Entry], head_hash: str | None
) -> Iterator[tuple[Entry, str | None]]:
    """Each entry with the ``prev`` of the entry after it (the head hash for the
    newest one)."""
    previous: Entry | None = None
    for entry in entries:
        if previous is not None:
            yield previous, entry[1].get("prev")
        previous = entry
    if previous is not None:
        yield previous, head_hash
