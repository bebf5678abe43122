"""Keeps a replay and the live projector from writing the graph at the same time.

Keys (``{p}`` is the configured prefix):
- ``{p}:replay-lock``: string, the owner of the running replay; it expires unless
  the replay renews it, so a killed replay frees it by itself.
- ``{p}:projecting``: sorted set, projector consumer -> the time (Redis clock, ms)
  its lease on the batch it is writing runs out.

A projector writes a batch only after entering (a lease is added) while no replay
holds the lock; a replay takes the lock first and then waits until no lease is left
unexpired. Between them, the graph has one writer at a time.
"""

from __future__ import annotations

import redis

from adapters.redis_event_store import EventStoreError

# KEYS[1] replay lock, KEYS[2] leases. ARGV[1] consumer, ARGV[2] lease in ms.
# Returns 1 when the consumer holds a lease now, 0 when a replay holds the lock.
ENTER_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = redis.call('TIME')
local deadline = now[1] * 1000 + math.floor(now[2] / 1000) + tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], deadline, ARGV[1])
return 1
"""

# KEYS[1] leases. Drops expired leases; returns how many are left.
LEASES_SCRIPT = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
return redis.call('ZCARD', KEYS[1])
"""

# KEYS[1] replay lock. ARGV[1] owner, ARGV[2] new TTL in ms (0: release).
# Returns 1 if the owner still held the lock, 0 otherwise.
RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) == 0 then redis.call('DEL', KEYS[1])
else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
"""

LEASE_MS = 60_000
LOCK_TTL_MS = 60_000


class ProjectionLock:
    def __init__(self, client: redis.Redis, prefix: str = "bldr"):
        self._redis = client
        self._lock_key = f"{prefix}:replay-lock"
        self._leases_key = f"{prefix}:projecting"
        self._enter = client.register_script(ENTER_SCRIPT)
        self._leases = client.register_script(LEASES_SCRIPT)
        self._renew = client.register_script(RENEW_SCRIPT)

    def enter(self, consumer: str, lease_ms: int = LEASE_MS) -> bool:
        """Take a lease for one batch; False while a replay holds the lock."""
        keys = [self._lock_key, self._leases_key]
        return bool(self._call(self._enter, keys, [consumer, lease_ms]))

    def leave(self, consumer: str) -> None:
        self._call(self._redis.zrem, self._leases_key, consumer)

    def drop_other_leases(self, consumer: str) -> None:
        """Forget the leases of every other consumer (they are known to be dead)."""
        others = [
            c
            for c in self._call(self._redis.zrange, self._leases_key, 0, -1)
            if c != consumer
        ]
        if others:
            self._call(self._redis.zrem, self._leases_key, *others)

    def take(self, owner: str, ttl_ms: int = LOCK_TTL_MS) -> bool:
        """Take the replay lock; False if another replay holds it."""
        return bool(
            self._call(self._redis.set, self._lock_key, owner, nx=True, px=ttl_ms)
        )

    def holder(self) -> str | None:
        return self._call(self._redis.get, self._lock_key)

    def renew(self, owner: str, ttl_ms: int = LOCK_TTL_MS) -> bool:
        """Extend the replay lock; False if it expired and was lost meanwhile."""
        return bool(self._call(self._renew, [self._lock_key], [owner, ttl_ms]))

    def release(self, owner: str) -> None:
        self._call(self._renew, [self._lock_key], [owner, 0])

    def leases(self) -> int:
        """How many projectors hold an unexpired lease on a batch."""
        return int(self._call(self._leases, [self._leases_key], []))

    @staticmethod
    def _call(command, *args, **kwargs):
        try:
            return command(*args, **kwargs)
        except redis.RedisError as exc:
            raise EventStoreError(f"projection lock: {exc}") from exc
