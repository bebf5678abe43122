"""The stream read as an auditor reads it: raw entries, the head, the lag of a
reader, and the archive boundary below which entries were trimmed.

Keys (besides those of ``adapters.redis_event_store``):
- ``{p}:archive``: hash describing the archive boundary: ``position`` (the newest
  archived entry), ``hash`` (its chain hash, where the live chain continues),
  ``events`` (entries archived in all) and ``archive`` (the newest archive's name).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import redis

from adapters.redis_event_store import EventStoreError

Entry = tuple[str, dict[str, str]]

# KEYS[1] stream, KEYS[2] chain head. Returns {newest entry id or '', head hash or ''},
# read together so that an append cannot fall between them.
HEAD_SCRIPT = """
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = ''
if newest[1] then id = newest[1][1] end
return {id, redis.call('GET', KEYS[2]) or ''}
"""

# KEYS[1] stream. ARGV[1] position, ARGV[2] cap. Returns {entries after the position
# (at most the cap), id of the first of them or '', newest id or '', Redis time ms}.
LAG_SCRIPT = """
local after = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local now = redis.call('TIME')
local first, head = '', ''
if after[1] then first = after[1][1] end
if newest[1] then head = newest[1][1] end
return {#after, first, head, now[1] * 1000 + math.floor(now[2] / 1000)}
"""

# KEYS[1] stream, KEYS[2] archive boundary. ARGV[1] newest archived id, ARGV[2] its
# hash, ARGV[3] entries archived now, ARGV[4] archive name, ARGV[5] the id after
# ARGV[1]. Trims only if the entry at ARGV[1] still carries ARGV[2], so nothing
# changed since it was exported. Returns the number trimmed, or -1 if refused.
TRIM_SCRIPT = """
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if not found[1] then return -1 end
local fields, hash = found[1][2], nil
for i = 1, #fields, 2 do
  if fields[i] == 'hash' then hash = fields[i + 1] end
end
if hash ~= ARGV[2] then return -1 end
redis.call('HSET', KEYS[2], 'position', ARGV[1], 'hash', ARGV[2], 'archive', ARGV[4])
redis.call('HINCRBY', KEYS[2], 'events', ARGV[3])
return redis.call('XTRIM', KEYS[1], 'MINID', '=', ARGV[5])
"""

LAG_CAP = 10_000


@dataclass(frozen=True)
class Lag:
    """Entries after a reader's position (counted up to ``LAG_CAP``), the first of
    them, the newest entry and the Redis clock."""

    events: int
    first_after: str
    head: str
    now_ms: int


@dataclass(frozen=True)
class ArchiveBoundary:
    position: str = "0-0"
    hash: str = ""
    events: int = 0
    archive: str = ""


def id_key(position: str) -> tuple[int, int]:
    """A stream id as (milliseconds, sequence), for comparing positions."""
    millis, _, sequence = position.partition("-")
    return int(millis), int(sequence or 0)


def next_id(position: str) -> str:
    millis, sequence = id_key(position)
    return f"{millis}-{sequence + 1}"


def before_id(position: str) -> str:
    """The greatest id below ``position``."""
    millis, sequence = id_key(position)
    if sequence:
        return f"{millis}-{sequence - 1}"
    return f"{millis - 1}-{2**64 - 1}"


class RedisAuditLog:
    def __init__(self, client: redis.Redis, prefix: str = "bldr"):
        self._redis = client
        self._prefix = prefix
        self.stream_key = f"{prefix}:events"
        self._boundary_key = f"{prefix}:archive"
        self._head = client.register_script(HEAD_SCRIPT)
        self._lag = client.register_script(LAG_SCRIPT)
        self._trim = client.register_script(TRIM_SCRIPT)

    def entries(
        self, after: str = "0-0", until: str = "+", count: int = 1000
    ) -> Iterator[Entry]:
        """Raw entries after ``after`` up to ``until`` (inclusive), in stream order."""
        while True:
            batch = self._call(
                self._redis.xrange, self.stream_key, f"({after}", until, count
            )
            yield from batch
            if len(batch) < count:
                return
            after = batch[-1][0]

    def entries_at(self, positions: Iterable[str]) -> list[Entry]:
        """The entries at ``positions`` that exist, in the order given."""
        pipe = self._redis.pipeline(transaction=False)
        for position in positions:
            pipe.xrange(self.stream_key, position, position)
        return [found[0] for found in self._call(pipe.execute) if found]

    def head(self) -> tuple[str, str]:
        """(newest entry id or "0-0", the chain head hash), read atomically."""
        keys = [self.stream_key, f"{self._prefix}:chain-head"]
        position, hash_ = self._call(self._head, keys, [])
        return position or "0-0", hash_

    def lag(self, position: str) -> Lag:
        """How far a reader that holds everything up to ``position`` is behind."""
        count, first, head, now = self._call(
            self._lag, [self.stream_key], [position, LAG_CAP]
        )
        return Lag(int(count), first, head or position, int(now))

    def boundary(self) -> ArchiveBoundary:
        raw = self._call(self._redis.hgetall, self._boundary_key)
        if not raw:
            return ArchiveBoundary()
        return ArchiveBoundary(
            raw["position"],
            raw["hash"],
            int(raw.get("events", 0)),
            raw.get("archive", ""),
        )

    def trim_archived(
        self, position: str, hash_: str, events: int, archive: str
    ) -> int:
        """Record the new boundary and trim the stream up to ``position``; -1 (and
        nothing done) if the entry there is gone or changed since it was read."""
        args = [position, hash_, events, archive, next_id(position)]
        keys = [self.stream_key, self._boundary_key]
        return int(self._call(self._trim, keys, args))

    def task_version(self, task_id: str) -> int:
        """The version of the task's newest event; 0 if it has none."""
        key = f"{self._prefix}:task-versions"
        return int(self._call(self._redis.hget, key, task_id) or 0)

    def task_positions(self, task_id: str) -> list[str]:
        """The stream ids of one task's events (the store's index), oldest first."""
        key = f"{self._prefix}:task:{task_id}:events"
        return self._call(self._redis.lrange, key, 0, -1)

    def forget_positions(self, task_id: str, up_to: str) -> None:
        """Drop ids at or below ``up_to`` from the task's index."""
        key = f"{self._prefix}:task:{task_id}:events"
        kept = [p for p in self.task_positions(task_id) if id_key(p) > id_key(up_to)]
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(key)
        if kept:
            pipe.rpush(key, *kept)
        self._call(pipe.execute)

    def consumed_by(self, group: str) -> str:
        """The newest position the group read and acknowledged along with everything
        before it; "0-0" if there is no such group."""
        found = self._group(group)
        if not found:
            return "0-0"
        delivered = found["last-delivered-id"]
        pending = self._call(self._redis.xpending, self.stream_key, group)
        if not pending["pending"]:
            return delivered
        return before_id(pending["min"])

    def advance_group(self, group: str, position: str) -> None:
        """Let the group continue after ``position`` unless it is already past it;
        a missing group is created there."""
        found = self._group(group)
        if not found:
            self._call(
                self._redis.xgroup_create,
                self.stream_key,
                group,
                position,
                mkstream=True,
            )
        elif id_key(found["last-delivered-id"]) < id_key(position):
            self._call(self._redis.xgroup_setid, self.stream_key, group, position)

    def rewind_group(self, group: str, position: str) -> bool:
        """Make the group deliver again what follows ``position`` if it has moved
        past it; whether it had."""
        found = self._group(group)
        if found is None or id_key(found["last-delivered-id"]) <= id_key(position):
            return False
        self._call(self._redis.xgroup_setid, self.stream_key, group, position)
        return True

    def _group(self, group: str) -> dict | None:
        if not self._call(self._redis.exists, self.stream_key):
            return None
        groups = self._call(self._redis.xinfo_groups, self.stream_key)
        return next((g for g in groups if g["name"] == group), None)

    def _call(self, command, *args, **kwargs):
        try:
            return command(*args, **kwargs)
        except redis.RedisError as exc:
            raise EventStoreError(f"reading the stream: {exc}") from exc
