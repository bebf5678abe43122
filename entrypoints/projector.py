"""The projector process: follows the stream and keeps the Neo4j views current.

It reads as consumer ``<name>`` of the group ``<prefix>-projector``. A batch is
written to Neo4j, pushed to the live feed, and only then acknowledged; after a
crash the same consumer name reads its unacknowledged entries again first, and
the version guard in every write makes the repeat harmless.
"""

from __future__ import annotations

import logging
import signal
import threading

import redis

from adapters import event_codec
from domain.ports import RecordedEvent
from entrypoints.bootstrap import Container
from projections import norms_graph, queue_view

logger = logging.getLogger(__name__)

BATCH = 500
BLOCK_MS = 1000


class Projector:
    def __init__(self, container: Container, consumer: str = "projector-1"):
        self._c = container
        self._redis = container.redis
        self._stream = container.event_store.stream_key
        self._group = f"{container.settings.prefix}-projector"
        self._consumer = consumer

    def prepare(self) -> None:
        """Create the consumer group (from the start of the stream) and the schema."""
        try:
            self._redis.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._c.queue_graph.ensure_schema()
        self._c.norms_graph.ensure_schema()

    def run(self, stop: threading.Event) -> None:
        self.prepare()
        self.catch_up_pending()
        while not stop.is_set():
            self.step(">", BLOCK_MS)

    def catch_up_pending(self) -> None:
        """Re-apply what this consumer read but never acknowledged."""
        while self.step("0", None):
            pass

    def step(self, start: str, block_ms: int | None) -> int:
        """Read and project one batch; the number of entries it held."""
        reply = self._redis.xreadgroup(
            self._group, self._consumer, {self._stream: start}, count=BATCH,
            block=block_ms,
        )
        entries = reply[0][1] if reply else []
        if entries:
            self.project(entries)
        return len(entries)

    def project(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        batch = list(self._decode(entries))
        changes = queue_view.changes(batch)

        self._c.queue_graph.apply([c.as_row() for c in changes])
        self._c.norms_graph.apply(*norms_graph.changes(batch))
        self._c.live_feed.publish([_update(c) for c in changes])

        self._redis.xack(self._stream, self._group, *[pos for pos, _ in entries])
        logger.info("projected %d events for %d tasks", len(batch), len(changes),
                    extra={"stream_id": entries[-1][0]})

    def _decode(self, entries):
        for position, fields in entries:
            try:
                yield RecordedEvent(position, event_codec.decode(position, fields))
            except event_codec.UndecodableEventError as exc:
                logger.error("skipped undecodable entry %s: %r", exc, fields,
                             extra={"stream_id": position})
                self._redis.xadd(f"{self._c.settings.prefix}:parked",
                                 {"position": position, **fields})


def _update(change: queue_view.TaskChange) -> dict:
    return {"task_id": change.task_id, "version": change.version,
            "position": change.position, **change.properties}


def main(container: Container) -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    projector = Projector(container)
    while not stop.is_set():
        try:
            projector.run(stop)
        except Exception:  # noqa: BLE001 - the loop restarts after any failure
            logger.critical("projector loop failed; restarting in 2 s", exc_info=True)
            stop.wait(2)
    logger.info("projector stopped")
