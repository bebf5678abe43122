"""Audit operations on the stream: check the tamper chain, export, archive.

Archiving moves the oldest part of the stream into a JSON Lines file and trims it
from Redis, never past what was written to that file, nor past what the projector
has acknowledged, nor into the history of a task that is still open or has events
after the cut: every task is either whole in the stream or whole in archives.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from adapters import event_chain, event_codec, jsonl_archive
from adapters.event_chain import ChainBreak, ChainReport
from adapters.redis_audit import ArchiveBoundary, RedisAuditLog, before_id, id_key
from domain import events as ev
from domain.errors import DomainError
from domain.tasks import Task, start_or_apply
from entrypoints import operations
from entrypoints.bootstrap import Container
from entrypoints.history import audit_log, position_at, position_before
from entrypoints.projector import Projector

logger = logging.getLogger(__name__)


class ArchiveRefusedError(Exception):
    """Archiving stopped before trimming anything, for the reason it names."""


def verify(container: Container, archives: Sequence[Path] = ()) -> ChainReport:
    """Walk the archives (if given) and then the stream, checking every link."""
    log = audit_log(container)
    boundary = log.boundary()
    newest, head_hash = log.head()
    start = ChainReport(0, boundary.position, boundary.hash)
    if archives:
        start = _verify_archives(archives, boundary)
        if not start.intact:
            return start
    report = event_chain.verify(
        log.entries(boundary.position, newest),
        boundary.hash,
        boundary.position,
        head_hash,
    )
    return ChainReport(
        start.checked + report.checked,
        report.last_position,
        report.last_hash,
        report.broken,
    )


def _verify_archives(archives: Sequence[Path], boundary: ArchiveBoundary):
    entries = itertools.chain.from_iterable(jsonl_archive.read(p) for p in archives)
    report = event_chain.verify(entries)
    if report.intact and report.last_hash != boundary.hash:
        reason = (
            f"the archives end at {report.last_position}, but the stream "
            f"continues from {boundary.position}"
        )
        gap = ChainBreak("removed", boundary.position, report.last_position, reason)
        return ChainReport(report.checked, report.last_position, report.last_hash, gap)
    return report


def export(
    container: Container, out: IO[str], since: datetime | None, until: datetime | None
) -> jsonl_archive.Written:
    """Write the entries recorded between ``since`` and ``until`` (both included)
    to ``out`` as JSON Lines."""
    after = position_before(since) if since else "0-0"
    last = position_at(until, last=True) if until else "+"
    return jsonl_archive.write(out, audit_log(container).entries(after, last))


@dataclass(frozen=True)
class Archived:
    path: Path
    written: jsonl_archive.Written


def archive(
    container: Container, before: datetime, folder: Path, actor: str
) -> Archived | None:
    """Archive and trim what may go of the stream recorded before ``before``;
    None if nothing may go yet."""
    log = audit_log(container)
    boundary = log.boundary()
    cut, tasks = archivable(
        log, boundary, position_at(before), Projector(container).group
    )
    if cut is None:
        return None
    entries = list(log.entries(boundary.position, cut))
    _check_chain(entries, boundary)

    path, written = jsonl_archive.write_archive(folder, entries)
    _trim(log, path, written, tasks)

    _record(container, actor, path, written)
    return Archived(path, written)


def archivable(
    log: RedisAuditLog, boundary: ArchiveBoundary, before: str, group: str
) -> tuple[str | None, list[str]]:
    """The newest position that may be archived (None if none may) and the tasks
    whose whole history lies at or before it."""
    consumed = log.consumed_by(group)
    cut = min(before_id(before), consumed, key=id_key)
    while id_key(cut) > id_key(boundary.position):
        blocking, closed = _open_tasks(log, boundary.position, cut)
        if blocking is None:
            return cut, closed
        cut = before_id(blocking)
    return None, []


def _open_tasks(log: RedisAuditLog, after: str, cut: str):
    """The first position of any task that cannot be archived whole at ``cut``
    (None if there is none), and the tasks that can."""
    tasks: dict[str, Task] = {}
    first: dict[str, str] = {}
    broken: set[str] = set()
    for position, fields in log.entries(after, cut):
        task_id = fields.get("task_id", "")
        if task_id == ev.SYSTEM_TASK_ID or task_id in broken:
            continue
        first.setdefault(task_id, position)
        try:
            event = event_codec.decode(position, fields)
            tasks[task_id] = start_or_apply(tasks.get(task_id), event)
        except (event_codec.UndecodableEventError, DomainError):
            broken.add(task_id)
    closed = [
        t for t, task in tasks.items() if t not in broken and _closed(log, task, cut)
    ]
    blocking = [p for t, p in first.items() if t not in closed]
    return min(blocking, key=id_key, default=None), closed


def _closed(log: RedisAuditLog, task: Task | None, cut: str) -> bool:
    if task is None or not task.status.is_terminal:
        return False
    positions = log.task_positions(task.task_id)
    return not positions or id_key(positions[-1]) <= id_key(cut)


def _check_chain(entries, boundary: ArchiveBoundary) -> None:
    report = event_chain.verify(entries, boundary.hash, boundary.position)
    if not report.intact:
        broken = report.broken
        raise ArchiveRefusedError(
            f"the chain is broken at {broken.position or broken.after} "
            f"({broken.kind}: {broken.reason}); run 'bldr audit verify'"
        )


def _trim(log: RedisAuditLog, path: Path, written, tasks: list[str]) -> None:
    trimmed = log.trim_archived(
        written.last, written.last_hash, written.events, path.name
    )
    if trimmed < 0:
        path.unlink()
        raise ArchiveRefusedError(
            f"entry {written.last} changed while it was "
            "archived; nothing was trimmed"
        )
    for task_id in [*tasks, ev.SYSTEM_TASK_ID]:
        log.forget_positions(task_id, written.last)
    logger.info(
        "archived %d entries up to %s into %s",
        written.events,
        written.last,
        path,
        extra={"stream_id": written.last},
    )


def _record(container: Container, actor: str, path: Path, written) -> None:
    operations.record(
        container,
        ev.StreamArchived(
            task_id=ev.SYSTEM_TASK_ID,
            actor=actor,
            archive=path.name,
            first_position=written.first,
            last_position=written.last,
            last_hash=written.last_hash,
            events=written.events,
            sha256=written.sha256,
        ),
    )
