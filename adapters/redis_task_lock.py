"""One-at-a-time slots for a task type, held in Redis across processes and hosts.

Key ``<prefix>:slot:<name>`` holds a redis-py lock with a short expiry that a
heartbeat thread keeps extending while the holder lives; when the holder's process
dies the heartbeat stops and the slot frees itself within ``ttl_s`` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

import redis
from redis.exceptions import LockError

logger = logging.getLogger(__name__)


class RedisTaskSlots:
    def __init__(self, client: redis.Redis, prefix: str, ttl_s: float = 15.0):
        self._redis = client
        self._prefix = prefix
        self._ttl = ttl_s

    @contextlib.contextmanager
    def hold(self, name: str, holder: str) -> Iterator[None]:
        """Wait for the slot ``name``, hold it for the block, then free it."""
        lock = self._redis.lock(
            f"{self._prefix}:slot:{name}", timeout=self._ttl, sleep=0.2,
            thread_local=False,
        )
        lock.acquire(blocking=True, token=holder.encode())
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(lock, stop), daemon=True)
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join()
            with contextlib.suppress(LockError):
                lock.release()

    def holder(self, name: str) -> str | None:
        """Who holds the slot now, if anyone."""
        return self._redis.get(f"{self._prefix}:slot:{name}")

    def _beat(self, lock, stop: threading.Event) -> None:
        while not stop.wait(self._ttl / 3):
            try:
                lock.reacquire()
            except (LockError, redis.RedisError) as exc:
                logger.warning("slot heartbeat failed: %s", exc)
