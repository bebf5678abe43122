"""Reading the history for people: pages of events, a task's timeline, the queue
as it stood at a moment, and how fresh the Neo4j views are.

Times given for ranges are compared with the stream positions, which Redis stamps
with its clock in milliseconds when it appends; ``as_of`` is compared with each
event's own time, as the task fold sees it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from adapters import event_codec
from adapters.neo4j_projection_space import Neo4jProjectionSpace
from adapters.redis_audit import RedisAuditLog, id_key
from domain import events as ev
from domain.errors import DomainError
from domain.ports import RecordedEvent
from domain.tasks import Task, start_or_apply
from entrypoints.bootstrap import Container
from entrypoints.event_schema import event_document

logger = logging.getLogger(__name__)

SCAN_LIMIT = 10_000
LAST_SEQUENCE = 2**64 - 1


def audit_log(container: Container) -> RedisAuditLog:
    return RedisAuditLog(container.redis, container.settings.prefix)


def freshness(container: Container) -> dict[str, Any]:
    """Up to which stream position the Neo4j views are current, and how far they
    lag the newest entry, in entries and in seconds the oldest missing one waits."""
    space = Neo4jProjectionSpace(
        container.neo4j_driver, container.settings.neo4j_database
    )
    position = space.checkpoint()
    lag = audit_log(container).lag(position)
    waited_ms = lag.now_ms - id_key(lag.first_after)[0] if lag.events else 0
    return {
        "position": position,
        "head": lag.head,
        "lag_events": lag.events,
        "lag_s": round(max(waited_ms, 0) / 1000, 3),
    }


def position_at(moment: datetime, last: bool = False) -> str:
    """The first (or last) stream position that Redis could stamp at ``moment``."""
    millis = int(moment.timestamp() * 1000)
    return f"{millis}-{LAST_SEQUENCE}" if last else f"{millis}-0"


def position_before(moment: datetime) -> str:
    """The last stream position Redis could stamp before ``moment``."""
    return position_at(moment - timedelta(milliseconds=1), last=True)


@dataclass(frozen=True)
class EventFilter:
    """Which events a reader wants; None matches anything."""

    task_id: str | None = None
    type: str | None = None
    actor: str | None = None
    correlation_id: str | None = None

    def matches(self, fields: dict[str, str]) -> bool:
        wanted = {
            "task_id": self.task_id,
            "type": self.type,
            "actor": self.actor,
            "correlation_id": self.correlation_id,
        }
        return all(v is None or fields.get(k) == v for k, v in wanted.items())


def events_page(
    container: Container, wanted: EventFilter, after: str, until: str, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` matching events after the cursor ``after``, as documents,
    and the cursor of the next page (None at the end of the stream)."""
    log = audit_log(container)
    if wanted.task_id is not None:
        positions = [
            p
            for p in log.task_positions(wanted.task_id)
            if id_key(after) < id_key(p) and _within(p, until)
        ]
        entries = log.entries_at(positions)
    else:
        entries = log.entries(after, until, count=min(limit * 4, 1000))
    return _page(entries, wanted, limit)


def _page(entries, wanted: EventFilter, limit: int):
    found: list[dict[str, Any]] = []
    for scanned, (position, fields) in enumerate(entries, start=1):
        if wanted.matches(fields):
            found.append(entry_document(position, fields))
        if len(found) == limit or scanned == SCAN_LIMIT:
            return found, position
    return found, None


def entry_document(position: str, fields: dict[str, str]) -> dict[str, Any]:
    """A stream entry as a client sees it; an undecodable one with its raw fields."""
    try:
        event = event_codec.decode(position, fields)
    except event_codec.UndecodableEventError as exc:
        return {"position": position, "undecodable": str(exc), "fields": fields}
    return event_document(RecordedEvent(position, event))


def timeline(history: list[RecordedEvent]) -> list[str]:
    """A task's history as lines a person reads: time, version, type, who, facts."""
    return [_timeline_line(r) for r in history]


def _timeline_line(recorded: RecordedEvent) -> str:
    e = recorded.event
    at = e.occurred_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    facts = " ".join(
        f"{k}={_short(v)}" for k, v in e.facts().items() if v not in ("", {}, [], ())
    )
    line = f"{at} UTC  v{e.version:<3} {e.type_name:<20} {e.actor:<24} {facts}"
    return line if len(line) <= 160 else line[:157] + "..."


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def queue_as_of(container: Container, moment: datetime) -> list[Task]:
    """Every task as its events up to ``moment`` left it, newest submission first.

    Each task's history is folded up to its first event after ``moment``; the
    whole stream is read, since an event's own time and its stream position come
    from different clocks."""
    tasks: dict[str, Task] = {}
    done: set[str] = {ev.SYSTEM_TASK_ID}
    for position, fields in audit_log(container).entries():
        if fields.get("task_id", "") not in done:
            _fold_entry(tasks, done, position, fields, moment)
    oldest_first = sorted(tasks.values(), key=lambda t: (t.submitted_at, t.task_id))
    return oldest_first[::-1]


def _fold_entry(
    tasks: dict[str, Task],
    done: set[str],
    position: str,
    fields: dict[str, str],
    moment: datetime,
) -> None:
    task_id = fields["task_id"]
    try:
        event = event_codec.decode(position, fields)
        if event.occurred_at > moment:
            done.add(task_id)
            return
        tasks[task_id] = start_or_apply(tasks.get(task_id), event)
    except (event_codec.UndecodableEventError, DomainError) as exc:
        # A task whose history cannot be folded is left out rather than guessed.
        logger.warning(
            "left out of the queue as of %s: %s",
            moment,
            exc,
            extra={"task_id": task_id, "stream_id": position},
        )
        done.add(task_id)
        tasks.pop(task_id, None)


def _within(position: str, until: str) -> bool:
    return until == "+" or id_key(position) <= id_key(until)


def utc(moment: datetime) -> datetime:
    """``moment`` with a time zone; a naive time is taken as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
