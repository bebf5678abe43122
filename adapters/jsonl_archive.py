"""Archives and exports of the stream as JSON Lines files.

One line per entry: ``{"position": <stream id>, <every stream field verbatim>}``,
the fields as the stream holds them (``data`` stays a JSON string), so that the
chain hashes can be checked again from the file alone. Archive files are named
``events-<first position>-<last position>.jsonl``; name order is stream order.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

Entry = tuple[str, dict[str, str]]


class ArchiveError(Exception):
    """An archive file that cannot be written or read back."""


@dataclass(frozen=True)
class Written:
    """What a file received: how many entries, the first and newest of them, the
    newest one's chain hash and the file's SHA-256."""

    events: int
    first: str
    last: str
    last_hash: str
    sha256: str


def write(out: IO[str], entries: Iterable[Entry]) -> Written:
    """Write ``entries`` as JSON Lines to ``out``."""
    digest, count, first, last, last_hash = hashlib.sha256(), 0, "", "", ""
    for position, fields in entries:
        line = json.dumps({"position": position, **fields}, ensure_ascii=False) + "\n"
        out.write(line)
        digest.update(line.encode())
        count, last, last_hash = count + 1, position, fields.get("hash", "")
        first = first or position
    return Written(count, first, last, last_hash, digest.hexdigest())


def write_archive(folder: Path, entries: list[Entry]) -> tuple[Path, Written]:
    """A new archive file in ``folder`` holding ``entries``, synced to disk before
    it takes its final name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"events-{_safe(entries[0][0])}-{_safe(entries[-1][0])}.jsonl"
    partial = folder / (name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            written = write(out, entries)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(folder / name)
    except OSError as exc:
        raise ArchiveError(f"writing {folder / name}: {exc}") from exc
    return folder / name, written


def archives(folder: Path) -> list[Path]:
    """The archive files in ``folder``, oldest first."""
    return sorted(folder.glob("events-*.jsonl"), key=lambda p: _first_key(p.name))


def read(path: Path) -> Iterator[Entry]:
    """The entries of one archive or export file."""
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                yield _entry(path, number, line)
    except OSError as exc:
        raise ArchiveError(f"reading {path}: {exc}") from exc


def _entry(path: Path, number: int, line: str) -> Entry:
    try:
        fields = json.loads(line)
        return fields.pop("position"), {k: str(v) for k, v in fields.items()}
    except (ValueError, KeyError, AttributeError) as exc:
        raise ArchiveError(f"{path} line {number}: not an entry ({exc})") from exc


def _safe(position: str) -> str:
    return position.replace("-", "_")


def _first_key(name: str) -> tuple[int, int]:
    first = name.removeprefix("events-").split("-")[0]
    millis, _, sequence = first.partition("_")
    return int(millis), int(sequence or 0)
