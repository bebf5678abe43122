"""The event store on a Redis stream.

Keys (``{p}`` is the configured prefix, ``bldr`` by default):
- ``{p}:events``: the stream of every event, the source of truth; entry fields are
  described in ``adapters.event_codec`` plus ``prev`` and ``hash`` (the tamper chain).
- ``{p}:task-versions``: hash task id -> the version of its last event.
- ``{p}:task:<id>:events``: list of the stream ids of one task's events (an index).
- ``{p}:chain-head``: hash of the newest entry.
- ``{p}:norms``: hash norm code -> the norm as the recorded events left it (a
  snapshot written in the same script as those events, rebuildable from the stream).
- ``{p}:idempotency:<key>``: the task id a submission with that key created.
- ``{p}:task:<id>:state``: the task folded up to its newest event (JSON, see
  ``adapters.task_codec``), written in the same script as the events, so that
  reading a task needs no fold of a history that may hold many norm events.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator, Mapping, Sequence

import redis

from adapters import event_codec
from adapters.task_codec import decode_task, encode_task
from domain import events as ev
from domain.errors import VersionConflictError
from domain.norms import Norm
from domain.ports import EventStore, RecordedEvent
from domain.tasks import Task, fold, submitted

logger = logging.getLogger(__name__)

# KEYS[1] stream, KEYS[2] version hash, KEYS[3] the task's index list, KEYS[4] chain
# head, KEYS[5] norms hash, KEYS[6] idempotency key, KEYS[7] the task's state.
# ARGV[1] task id, ARGV[2] expected version, ARGV[3] idempotency TTL in seconds (0:
# no key), ARGV[4] event count n, ARGV[5] norm count m, ARGV[6] the task's state
# after these events ('' leaves it), then n groups of the nine codec values, then
# m pairs (code, norm as JSON).
# Returns {"ok", id...}, {"conflict", actual version} or {"duplicate", task id}.
APPEND_SCRIPT = """
local task_id = ARGV[1]
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  local existing = redis.call('GET', KEYS[6])
  if existing then return {'duplicate', existing} end
end
local actual = tonumber(redis.call('HGET', KEYS[2], task_id) or '0')
if actual ~= tonumber(ARGV[2]) then return {'conflict', tostring(actual)} end
local names = {'event_id', 'task_id', 'type', 'version', 'at', 'schema', 'actor',
               'correlation_id', 'data'}
local n, m = tonumber(ARGV[4]), tonumber(ARGV[5])
local prev = redis.call('GET', KEYS[4]) or ''
local ids = {'ok'}
local version = actual
for i = 0, n - 1 do
  local fields, text = {}, #prev .. ':' .. prev
  for j = 1, 9 do
    local value = ARGV[6 + i * 9 + j]
    fields[#fields + 1] = names[j]
    fields[#fields + 1] = value
    text = text .. #value .. ':' .. value
  end
  local hash = redis.sha1hex(text)
  fields[#fields + 1] = 'prev'
  fields[#fields + 1] = prev
  fields[#fields + 1] = 'hash'
  fields[#fields + 1] = hash
  local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
  redis.call('RPUSH', KEYS[3], id)
  prev = hash
  version = version + 1
  ids[#ids + 1] = id
end
redis.call('SET', KEYS[4], prev)
redis.call('HSET', KEYS[2], task_id, version)
for k = 0, m - 1 do
  local at = 6 + n * 9 + k * 2
  redis.call('HSET', KEYS[5], ARGV[at + 1], ARGV[at + 2])
end
if ttl > 0 then redis.call('SET', KEYS[6], task_id, 'EX', ttl) end
if ARGV[6] ~= '' then redis.call('SET', KEYS[7], ARGV[6]) end
return ids
"""


def _numbered(event: ev.Event, version: int) -> ev.Event:
    return event if event.version == version else event.at_version(version)


class EventStoreError(Exception):
    """The event store could not be reached or answered nonsense."""


class RedisEventStore(EventStore):
    def __init__(self, client: redis.Redis, prefix: str = "bldr"):
        self._redis = client
        self._prefix = prefix
        self._append = client.register_script(APPEND_SCRIPT)

    @property
    def stream_key(self) -> str:
        return f"{self._prefix}:events"

    def submit(
        self, event: ev.TaskSubmitted, idempotency_ttl_s: int
    ) -> tuple[str, bool]:
        ttl = idempotency_ttl_s if event.idempotency_key else 0
        first = event.at_version(1)
        reply = self._run(
            event.task_id, [first], 0, {}, ttl, event.idempotency_key, submitted(first)
        )
        if reply[0] == "duplicate":
            return reply[1], False
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
            _numbered(e, expected_version + i) for i, e in enumerate(events, start=1)
        ]
        reply = self._run(
            task_id, numbered, expected_version, norms or {}, 0, "", state
        )
        return [RecordedEvent(pos, e) for pos, e in zip(reply[1:], numbered)]

    def history(
        self, task_id: str, offset: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        last = -1 if limit is None else offset + limit - 1
        try:
            ids = self._redis.lrange(self._task_index(task_id), offset, last)
            pipe = self._redis.pipeline(transaction=False)
            for position in ids:
                pipe.xrange(self.stream_key, position, position)
            entries = pipe.execute()
        except redis.RedisError as exc:
            raise EventStoreError(f"reading task {task_id}: {exc}") from exc
        return [
            RecordedEvent(pos, event_codec.decode(pos, found[0][1]))
            for pos, found in zip(ids, entries)
            if found
        ]

    def known_norms(self) -> dict[str, Norm]:
        raw = self._redis.hgetall(f"{self._prefix}:norms")
        return {code: Norm(**json.loads(value)) for code, value in raw.items()}

    def task(self, task_id: str) -> Task | None:
        try:
            text = self._redis.get(f"{self._prefix}:task:{task_id}:state")
        except redis.RedisError as exc:
            raise EventStoreError(f"reading task {task_id}: {exc}") from exc
        if text is not None:
            return decode_task(text)
        return fold(r.event for r in self.history(task_id))

    def version(self, task_id: str) -> int:
        try:
            value = self._redis.hget(f"{self._prefix}:task-versions", task_id)
        except redis.RedisError as exc:
            raise EventStoreError(f"reading task {task_id}: {exc}") from exc
        return int(value or 0)

    def read_after(self, position: str, count: int = 1000) -> Iterator[RecordedEvent]:
        """Events after ``position`` ("0" for the start), in stream order."""
        while True:
            batch = self._redis.xrange(self.stream_key, f"({position}", "+", count)
            for pos, fields in batch:
                yield RecordedEvent(pos, event_codec.decode(pos, fields))
            if len(batch) < count:
                return
            position = batch[-1][0]

    def _run(self, task_id, events, expected, norms, ttl, idem_key, state=None):
        keys = [
            self.stream_key,
            f"{self._prefix}:task-versions",
            self._task_index(task_id),
            f"{self._prefix}:chain-head",
            f"{self._prefix}:norms",
            f"{self._prefix}:idempotency:{idem_key}",
            f"{self._prefix}:task:{task_id}:state",
        ]
        state_text = encode_task(state) if state is not None else ""
        args = [task_id, expected, ttl, len(events), len(norms), state_text]
        for event in events:
            args.extend(event_codec.encode(event))
        for code, norm in norms.items():
            args.extend(
                [code, json.dumps(dataclasses.asdict(norm), ensure_ascii=False)]
            )
        try:
            reply = self._append(keys=keys, args=args)
        except redis.RedisError as exc:
            raise EventStoreError(f"appending to task {task_id}: {exc}") from exc
        if reply[0] == "conflict":
            raise VersionConflictError(task_id, expected, int(reply[1]))
        return reply

    def _task_index(self, task_id: str) -> str:
        return f"{self._prefix}:task:{task_id}:events"
