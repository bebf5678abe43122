"""Coordination inside one process, for pure tests of the worker's decisions."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator

from domain.ports import Coordination, SlotWaitAbandoned


class InMemoryCoordination(Coordination):
    def __init__(self) -> None:
        self.deliveries: Counter[str] = Counter()
        self.leases: dict[str, str] = {}
        self.slots: dict[str, str] = {}
        self._changed = threading.Condition()

    def count_delivery(self, task_id: str) -> int:
        self.deliveries[task_id] += 1
        return self.deliveries[task_id]

    @contextlib.contextmanager
    def lease(self, task_id: str, holder: str) -> Iterator[None]:
        self.leases[task_id] = holder
        try:
            yield
        finally:
            self.leases.pop(task_id, None)

    def lease_holder(self, task_id: str) -> str | None:
        return self.leases.get(task_id)

    @contextlib.contextmanager
    def slot(
        self, name: str, holder: str, should_stop: Callable[[], bool]
    ) -> Iterator[None]:
        with self._changed:
            while name in self.slots:
                if should_stop():
                    raise SlotWaitAbandoned(name)
                self._changed.wait(0.05)
            self.slots[name] = holder
        try:
            yield
        finally:
            with self._changed:
                del self.slots[name]
                self._changed.notify_all()

    def slot_holder(self, name: str) -> str | None:
        return self.slots.get(name)
