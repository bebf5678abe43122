"""The projector process: follows the stream and keeps the Neo4j views current.

It reads as consumer ``<name>`` of the group ``<prefix>-projector``. A batch is
written to Neo4j together with the checkpoint (the stream position the graph now
holds), pushed to the live feed, and only then acknowledged. Entries a dead
consumer read and never acknowledged are claimed again (XAUTOCLAIM) at start and,
once they have been idle for ``CLAIM_IDLE_MS``, while running; the version and
ordinal guards in every write make applying them twice harmless. The checkpoint,
not the group, says what the graph holds: when the group is past it (at start, or
after waiting for a replay that died halfway) the group is moved back to it.

NOTE: the claim at start takes every pending entry, and the leases of other
consumers are then dropped, so it assumes one projector per consumer group; a
second one started meanwhile repeats a batch the guards then skip, and a replay
started at that moment may not wait for that batch.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass

import neo4j.exceptions
import redis

from adapters import event_codec
from adapters.neo4j_client import GraphError
from adapters.neo4j_norms_graph import Neo4jNormsGraph
from adapters.neo4j_projection_space import LIVE, LabelSpace, Neo4jProjectionSpace
from adapters.neo4j_queue_graph import Neo4jQueueGraph
from adapters.redis_audit import RedisAuditLog
from adapters.redis_projection_lock import ProjectionLock
from domain import events as ev
from domain.ports import RecordedEvent
from entrypoints.bootstrap import Container, process_name
from projections import norms_graph, queue_view

logger = logging.getLogger(__name__)

BATCH = 500
BLOCK_MS = 1000
CLAIM_IDLE_MS = 60_000
PAUSE_S = 0.2


@dataclass(frozen=True)
class GraphTarget:
    """The writers of one label space: the queue graph, the norms graph and the
    space's checkpoint."""

    queue: Neo4jQueueGraph
    norms: Neo4jNormsGraph
    space: Neo4jProjectionSpace

    def ensure_schema(self) -> None:
        self.queue.ensure_schema()
        self.norms.ensure_schema()
        self.space.ensure_schema()


def graph_target(container: Container, space: LabelSpace = LIVE) -> GraphTarget:
    """The writers of ``space``; the live space uses the container's graphs."""
    driver, database = container.neo4j_driver, container.settings.neo4j_database
    projection = Neo4jProjectionSpace(driver, database, space)
    if space == LIVE:
        return GraphTarget(container.queue_graph, container.norms_graph, projection)
    return GraphTarget(
        Neo4jQueueGraph(driver, database, space),
        Neo4jNormsGraph(driver, database, space),
        projection,
    )


def write_batch(
    target: GraphTarget, batch: list[RecordedEvent], last_position: str
) -> list[queue_view.TaskChange]:
    """Write the views of ``batch`` and move the checkpoint to ``last_position``.

    Events about the system as a whole are not tasks and change no view."""
    events = [r for r in batch if not ev.is_system(r.event)]
    changes = queue_view.changes(events)

    target.queue.apply([c.as_row() for c in changes])
    target.norms.apply(*norms_graph.changes(events))
    target.space.save_checkpoint(last_position, queue_view.ordinal(last_position))
    return changes


def decoded(entries, on_error=None) -> list[RecordedEvent]:
    """The events of raw stream entries; an undecodable one is logged, handed to
    ``on_error`` and skipped."""
    batch = []
    for position, fields in entries:
        try:
            batch.append(RecordedEvent(position, event_codec.decode(position, fields)))
        except event_codec.UndecodableEventError as exc:
            logger.error(
                "skipped undecodable entry %s: %r",
                exc,
                fields,
                extra={"stream_id": position},
            )
            if on_error is not None:
                on_error(position, fields)
    return batch


class Projector:
    def __init__(self, container: Container, consumer: str = "projector-1"):
        self._c = container
        self._redis = container.redis
        self._stream = container.event_store.stream_key
        self._group = f"{container.settings.prefix}-projector"
        self._consumer = consumer
        self._target = graph_target(container)
        self._lock = ProjectionLock(container.redis, container.settings.prefix)
        self._log = RedisAuditLog(container.redis, container.settings.prefix)
        self._stop = threading.Event()

    @property
    def group(self) -> str:
        return self._group

    def prepare(self) -> None:
        """Create the consumer group (from the start of the stream) and the schema."""
        try:
            self._redis.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._target.ensure_schema()

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        self.prepare()
        self.reclaim(0)
        self._lock.drop_other_leases(self._consumer)
        self.forget_idle_consumers()
        self.rewind_to_checkpoint()
        last_claim = time.monotonic()
        while not stop.is_set():
            self.step(">", BLOCK_MS)
            if time.monotonic() - last_claim > CLAIM_IDLE_MS / 1000:
                self.reclaim(CLAIM_IDLE_MS)
                last_claim = time.monotonic()

    def reclaim(self, min_idle_ms: int) -> int:
        """Claim and project entries left unacknowledged (by this consumer or a dead
        one) for at least ``min_idle_ms``; the number of entries claimed."""
        start, claimed = "0-0", 0
        while not self._stop.is_set():
            start, entries, *_ = self._redis.xautoclaim(
                self._stream,
                self._group,
                self._consumer,
                min_idle_ms,
                start_id=start,
                count=BATCH,
            )
            entries = [(pos, fields) for pos, fields in entries if fields]
            if entries:
                logger.info(
                    "claimed %d unacknowledged entries",
                    len(entries),
                    extra={"stream_id": entries[0][0]},
                )
                self.project(entries)
                claimed += len(entries)
            if start == "0-0":
                break
        return claimed

    def forget_idle_consumers(self) -> None:
        """Drop consumers of earlier projector processes that hold nothing."""
        for consumer in self._redis.xinfo_consumers(self._stream, self._group):
            name = consumer["name"]
            idle = consumer["pending"] == 0 and consumer["idle"] > CLAIM_IDLE_MS
            if name != self._consumer and idle:
                self._redis.xgroup_delconsumer(self._stream, self._group, name)

    def step(self, start: str, block_ms: int | None) -> int:
        """Read and project one batch; the number of entries it held."""
        reply = self._redis.xreadgroup(
            self._group,
            self._consumer,
            {self._stream: start},
            count=BATCH,
            block=block_ms,
        )
        entries = reply[0][1] if reply else []
        if entries:
            self.project(entries)
        return len(entries)

    def project(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        """Write one batch while holding a lease, then publish and acknowledge it.

        Left unacknowledged if the projector stops while a replay runs, or if the
        replay it waited for ended short of the batch (it is read again, in order,
        after the rewind)."""
        batch = decoded(entries, self._park)
        waited = self._enter()
        if waited is None:
            return
        try:
            if waited and self.rewind_to_checkpoint():
                return
            changes = self._write(batch, entries[-1][0])
        finally:
            self._lock.leave(self._consumer)

        self._c.live_feed.publish([_update(c) for c in changes])

        self._redis.xack(self._stream, self._group, *[pos for pos, _ in entries])
        logger.info(
            "projected %d events for %d tasks",
            len(batch),
            len(changes),
            extra={"stream_id": entries[-1][0]},
        )

    def rewind_to_checkpoint(self) -> bool:
        """Deliver again what follows the graph's checkpoint when the group has
        moved past it (a replay died halfway, or Neo4j came back from an older
        backup); whether it did."""
        checkpoint = self._target.space.checkpoint()
        rewound = self._log.rewind_group(self._group, checkpoint)
        if rewound:
            logger.warning(
                "the graph holds the stream up to %s only; reading " "again from there",
                checkpoint,
                extra={"stream_id": checkpoint},
            )
        return rewound

    def _enter(self) -> bool | None:
        """Wait for a lease on the graph (a replay holds it off): whether it had to
        wait, or None if the projector stopped meanwhile."""
        paused = False
        while not self._lock.enter(self._consumer):
            if not paused:
                logger.info("paused while a replay rebuilds the views")
                paused = True
            if self._stop.wait(PAUSE_S):
                return None
        if paused:
            logger.info("resumed after the replay")
        return paused

    def _write(self, batch: list[RecordedEvent], last: str):
        """Write a batch; if Neo4j refuses it for good (not for a passing reason),
        write its events one by one and park the ones it refuses, so one poisoned
        event cannot stop the views for ever."""
        try:
            return write_batch(self._target, batch, last)
        except GraphError as exc:
            if _transient(exc):
                raise
            logger.error(
                "batch refused by Neo4j, isolating the event: %s",
                exc,
                extra={"stream_id": last},
            )
        changes = []
        for recorded in batch:
            try:
                changes += write_batch(self._target, [recorded], recorded.position)
            except GraphError as exc:
                if _transient(exc):
                    raise
                self._park_event(recorded, exc)
        write_batch(self._target, [], last)
        return changes

    def _park_event(self, recorded: RecordedEvent, error: GraphError) -> None:
        logger.error(
            "parked an event Neo4j refuses: %s",
            error,
            extra={"stream_id": recorded.position, "task_id": recorded.event.task_id},
        )
        self._redis.xadd(
            f"{self._c.settings.prefix}:parked",
            {
                "position": recorded.position,
                "type": recorded.event.type_name,
                "task_id": recorded.event.task_id,
                "error": str(error)[:2000],
            },
        )

    def _park(self, position: str, fields: dict[str, str]) -> None:
        self._redis.xadd(
            f"{self._c.settings.prefix}:parked", {"position": position, **fields}
        )


def _transient(error: GraphError) -> bool:
    """Whether Neo4j may accept the same write later (it was down, busy or
    deadlocked), as opposed to refusing what the write holds."""
    cause = error.__cause__
    return not isinstance(cause, neo4j.exceptions.Neo4jError) or isinstance(
        cause, neo4j.exceptions.TransientError
    )


def _update(change: queue_view.TaskChange) -> dict:
    return {
        "task_id": change.task_id,
        "version": change.version,
        "position": change.position,
        **change.properties,
    }


def main(container: Container) -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    projector = Projector(container, process_name("projector"))
    while not stop.is_set():
        try:
            projector.run(stop)
        except Exception:  # noqa: BLE001 - the loop restarts after any failure
            logger.critical("projector loop failed; restarting in 2 s", exc_info=True)
            stop.wait(2)
    logger.info("projector stopped")
