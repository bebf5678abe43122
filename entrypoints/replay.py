"""Replay: rebuild the Neo4j views from the stream, or rebuild them aside and
compare them with the live ones.

A replay takes the replay lock, waits for the live projector to finish the batch
it is writing, and keeps the projector paused until it is done; it reads up to
the newest entry, including entries that arrived while it ran, and then moves the
projector's consumer group past what it wrote, so that the projector resumes
after it and loses nothing.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from adapters import jsonl_archive
from adapters.neo4j_projection_space import LIVE, REPLAY, LabelSpace
from adapters.redis_audit import RedisAuditLog, id_key
from adapters.redis_projection_lock import LEASE_MS, ProjectionLock
from domain import events as ev
from entrypoints import operations
from entrypoints.bootstrap import Container
from entrypoints.projector import (
    GraphTarget,
    Projector,
    decoded,
    graph_target,
    write_batch,
)
from projections.replay import diff

logger = logging.getLogger(__name__)

BATCH = 2000
WAIT_S = 0.2


class ReplayError(Exception):
    """A replay that could not run or could not finish."""


@dataclass
class ReplayResult:
    mode: str
    from_position: str
    to_position: str
    events: int
    differences: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


class Replay:
    """One replay run by ``actor``; ``archives`` (oldest first) are read before the
    stream, for a stream trimmed by an archive."""

    def __init__(
        self,
        container: Container,
        actor: str,
        archives: Sequence[Path] = (),
        progress: bool | None = None,
        batch: int = BATCH,
    ):
        self._c = container
        self._actor = actor
        self._archives = list(archives)
        self._progress = progress
        self._batch = batch
        self._log = RedisAuditLog(container.redis, container.settings.prefix)
        self._lock = ProjectionLock(container.redis, container.settings.prefix)
        self._owner = f"replay:{uuid.uuid4().hex}:{actor}"

    def rebuild(
        self, after: str | None = None, space: LabelSpace = LIVE
    ) -> ReplayResult:
        """Rebuild the views in ``space`` (the live ones unless told): from nothing,
        or over them from ``after``. The projector resumes after a live rebuild."""
        started = time.monotonic()
        self._require_archives(after)
        with self._locked():
            target = graph_target(self._c, space)
            target.ensure_schema()
            if after is None:
                target.space.wipe()
            last, count = self._apply(target, after or "0-0", "+")
            if space == LIVE:
                self._log.advance_group(Projector(self._c).group, last)
        result = ReplayResult(
            "rebuild", after or "0-0", last, count, elapsed_s=time.monotonic() - started
        )
        self._record(result)
        return result

    def check(self) -> ReplayResult:
        """Rebuild the views aside, up to the live checkpoint, and compare."""
        started = time.monotonic()
        self._require_archives(None)
        with self._locked():
            live, scratch = graph_target(self._c, LIVE), graph_target(self._c, REPLAY)
            scratch.ensure_schema()
            scratch.space.wipe()
            until = live.space.checkpoint()
            last, count = self._apply(scratch, "0-0", until)
            differences = diff(live.space.snapshot(), scratch.space.snapshot())
            scratch.space.wipe()
        result = ReplayResult(
            "check", "0-0", until, count, differences, time.monotonic() - started
        )
        self._record(result)
        return result

    def _require_archives(self, after: str | None) -> None:
        boundary = self._log.boundary()
        from_start = after is None or id_key(after) < id_key(boundary.position)
        if boundary.events and from_start and not self._archives:
            raise ReplayError(
                f"the stream was archived up to {boundary.position}; give the "
                "archive folder to replay from before it"
            )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if not self._lock.take(self._owner):
            raise ReplayError(f"another replay is running ({self._lock.holder()})")
        try:
            self._wait_for_projectors()
            yield
        finally:
            self._lock.release(self._owner)

    def _wait_for_projectors(self) -> None:
        deadline = time.monotonic() + LEASE_MS / 1000 + 5
        while self._lock.leases() and time.monotonic() < deadline:
            self._renew()
            time.sleep(WAIT_S)
        if self._lock.leases():
            raise ReplayError("a projector kept writing past its lease")

    def _apply(self, target: GraphTarget, after: str, until: str) -> tuple[str, int]:
        """Write every entry after ``after`` up to ``until`` in batches; the last
        position written (``after`` if none) and the number of entries."""
        last, count = after, 0
        batches = (
            _Batch(chunk) for chunk in _chunks(self._entries(after, until), self._batch)
        )
        with self._bar(after) as bar, _read_ahead(batches) as ready:
            for batch in ready:
                write_batch(target, batch.events, batch.last)
                self._renew()
                last, count = batch.last, count + batch.size
                bar.update(batch.size)
        logger.info(
            "replayed %d entries up to %s", count, last, extra={"stream_id": last}
        )
        return last, count

    def _entries(self, after: str, until: str) -> Iterator[tuple[str, dict]]:
        for path in self._archives:
            for position, fields in jsonl_archive.read(path):
                if id_key(after) < id_key(position) and _within(position, until):
                    yield position, fields
        boundary = self._log.boundary().position
        start = max(after, boundary, key=id_key) if self._archives else after
        yield from self._log.entries(start, until, self._batch)

    def _bar(self, after: str) -> tqdm:
        total = self._c.redis.xlen(self._log.stream_key) if after == "0-0" else None
        disable = None if self._progress is None else not self._progress
        return tqdm(
            total=total, unit="ev", unit_scale=True, desc="replay", disable=disable
        )

    def _renew(self) -> None:
        if not self._lock.renew(self._owner):
            raise ReplayError(
                "the replay lock expired; the projector may have "
                "written meanwhile, so run the replay again"
            )

    def _record(self, result: ReplayResult) -> None:
        operations.record(
            self._c,
            ev.ProjectionsReplayed(
                task_id=ev.SYSTEM_TASK_ID,
                actor=self._actor,
                mode=result.mode,
                from_position=result.from_position,
                to_position=result.to_position,
                events=result.events,
                differences=len(result.differences),
            ),
        )


class _Batch:
    """Stream entries read and decoded, ready to write."""

    def __init__(self, chunk: list[tuple[str, dict]]):
        self.events = decoded(chunk)
        self.last = chunk[-1][0]
        self.size = len(chunk)


@contextlib.contextmanager
def _read_ahead(batches: Iterator[_Batch], depth: int = 2):
    """``batches`` made by a thread while the caller writes the previous ones:
    reading and decoding overlap the Neo4j writes."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    reader = threading.Thread(
        target=_fill, args=(batches, ready, stop), name="replay-reader", daemon=True
    )
    reader.start()
    try:
        yield _drain(ready)
    finally:
        stop.set()
        reader.join()


def _fill(batches: Iterator[_Batch], ready: queue.Queue, stop: threading.Event):
    try:
        for batch in batches:
            if not _put(ready, (batch, None), stop):
                return
    except Exception as exc:  # noqa: BLE001 - handed to the writer, raised there
        _put(ready, (None, exc), stop)
        return
    _put(ready, (None, None), stop)


def _put(ready: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            ready.put(item, timeout=WAIT_S)
            return True
        except queue.Full:
            continue
    return False


def _drain(ready: queue.Queue) -> Iterator[_Batch]:
    while True:
        batch, error = ready.get()
        if error is not None:
            raise error
        if batch is None:
            return
        yield batch


def _within(position: str, until: str) -> bool:
    return until == "+" or id_key(position) <= id_key(until)


def _chunks(entries, size: int) -> Iterator[list]:
    iterator = iter(entries)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
