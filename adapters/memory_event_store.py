"""An event store in process memory, for pure tests of the services and for the
contract suite that every event store must pass. Not shared across processes."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping, Sequence

from domain import events as ev
from domain.errors import VersionConflictError
from domain.norms import Norm
from domain.ports import EventStore, RecordedEvent
from domain.tasks import Task, fold


class InMemoryEventStore(EventStore):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[RecordedEvent] = []
        self._by_task: dict[str, list[RecordedEvent]] = {}
        self._keys: dict[str, str] = {}
        self._norms: dict[str, Norm] = {}
        self._sequence = itertools.count()

    def submit(
        self, event: ev.TaskSubmitted, idempotency_ttl_s: int
    ) -> tuple[str, bool]:
        with self._lock:
            first = self._keys.get(event.idempotency_key)
            if event.idempotency_key and first is not None:
                return first, False
            self._add(event.task_id, [event.at_version(1)], 0)
            if event.idempotency_key:
                self._keys[event.idempotency_key] = event.task_id
        return event.task_id, True

    def append(
        self,
        task_id: str,
        events: Sequence[ev.Event],
        expected_version: int,
        norms: Mapping[str, Norm] | None = None,
        state: Task | None = None,
    ) -> list[RecordedEvent]:
        numbered = [
            e.at_version(expected_version + i) for i, e in enumerate(events, start=1)
        ]
        with self._lock:
            recorded = self._add(task_id, numbered, expected_version)
            self._norms.update(norms or {})
        return recorded

    def history(
        self, task_id: str, offset: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        with self._lock:
            events = self._by_task.get(task_id, [])
            end = None if limit is None else offset + limit
            return list(events[offset:end])

    def known_norms(self) -> dict[str, Norm]:
        with self._lock:
            return dict(self._norms)

    def task(self, task_id: str) -> Task | None:
        return fold(r.event for r in self.history(task_id))

    def version(self, task_id: str) -> int:
        with self._lock:
            return len(self._by_task.get(task_id, []))

    def all_events(self) -> list[RecordedEvent]:
        with self._lock:
            return list(self._events)

    def _add(self, task_id, events, expected_version) -> list[RecordedEvent]:
        history = self._by_task.setdefault(task_id, [])
        if len(history) != expected_version:
            raise VersionConflictError(task_id, expected_version, len(history))
        recorded = [RecordedEvent(self._position(), e) for e in events]
        history.extend(recorded)
        self._events.extend(recorded)
        return recorded

    def _position(self) -> str:
        return f"{int(time.time() * 1000)}-{next(self._sequence)}"
