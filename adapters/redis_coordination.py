"""What workers share, in Redis, so that it outlives any one worker process.

Keys (``{p}`` is the prefix):
- ``{p}:deliveries:<task>``: how often the task was delivered (INCR; kept 7 days).
- ``{p}:lease:<task>``: the worker running the task; expires ``ttl_s`` after its
  holder's last renewal, so a dead worker's task can be taken over.
- ``{p}:slot:<type>``: the task holding the type's one-at-a-time slot (a redis-py
  lock with the task id as token), renewed the same way and freed the same way.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

import redis
from redis.exceptions import LockError

from domain.ports import Coordination, SlotWaitAbandoned

logger = logging.getLogger(__name__)

DELIVERY_COUNT_TTL_S = 7 * 24 * 3600

# KEYS[1] the lease key; ARGV[1] the holder, ARGV[2] the expiry in milliseconds.
# Renews the lease only while it is still the holder's; returns 1 if it did.
RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS[1] the lease key; ARGV[1] the holder. Deletes it only if it is still theirs.
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisCoordination(Coordination):
    def __init__(self, client: redis.Redis, prefix: str, ttl_s: float = 10.0):
        self._redis = client
        self._prefix = prefix
        self._ttl = ttl_s
        self._renew = client.register_script(RENEW_SCRIPT)
        self._release = client.register_script(RELEASE_SCRIPT)

    def count_delivery(self, task_id: str) -> int:
        key = f"{self._prefix}:deliveries:{task_id}"
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, DELIVERY_COUNT_TTL_S)
        return pipe.execute()[0]

    @contextlib.contextmanager
    def lease(self, task_id: str, holder: str) -> Iterator[None]:
        key = f"{self._prefix}:lease:{task_id}"
        millis = int(self._ttl * 1000)
        self._redis.set(key, holder, px=millis)
        renew = lambda: self._renew(keys=[key], args=[holder, millis])  # noqa: E731
        with _heartbeat(renew, self._ttl / 3, "lease"):
            yield
        self._release(keys=[key], args=[holder])

    def lease_holder(self, task_id: str) -> str | None:
        return self._redis.get(f"{self._prefix}:lease:{task_id}")

    @contextlib.contextmanager
    def slot(
        self, name: str, holder: str, should_stop: Callable[[], bool]
    ) -> Iterator[None]:
        lock = self._redis.lock(
            f"{self._prefix}:slot:{name}",
            timeout=self._ttl,
            sleep=0.1,
            thread_local=False,
        )
        while not lock.acquire(blocking_timeout=0.5, token=holder):
            if should_stop():
                raise SlotWaitAbandoned(name)
        try:
            with _heartbeat(lock.reacquire, self._ttl / 3, "slot"):
                yield
        finally:
            with contextlib.suppress(LockError):
                lock.release()

    def slot_holder(self, name: str) -> str | None:
        return self._redis.get(f"{self._prefix}:slot:{name}")


@contextlib.contextmanager
def _heartbeat(renew: Callable[[], object], every_s: float, what: str):
    """Call ``renew`` every ``every_s`` seconds in a thread while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            try:
                renew()
            except (LockError, redis.RedisError) as exc:
                logger.warning("%s renewal failed: %s", what, exc)

    thread = threading.Thread(target=beat, name=f"{what}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
