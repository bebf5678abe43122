"""How events are written as flat string fields, and read back.

One stream entry holds these fields, in this order (the order matters for the hash):
``event_id``, ``task_id``, ``type``, ``version``, ``at`` (ISO 8601, UTC), ``schema``
(schema version of ``data``), ``actor``, ``correlation_id``, ``data`` (the event's own
facts as a JSON object). The store adds ``prev`` and ``hash`` (the tamper chain).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime
from typing import Any

from domain import events as ev

FIELD_ORDER = (
    "event_id",
    "task_id",
    "type",
    "version",
    "at",
    "schema",
    "actor",
    "correlation_id",
    "data",
)


class UndecodableEventError(ValueError):
    """A stream entry that is not an event this code can read."""

    def __init__(self, position: str, reason: str):
        self.position = position
        super().__init__(f"stream entry {position}: {reason}")


def encode(event: ev.Event) -> list[str]:
    """The entry values of ``event``, in ``FIELD_ORDER``."""
    return [
        event.event_id,
        event.task_id,
        event.type_name,
        str(event.version),
        event.occurred_at.isoformat(),
        str(ev.SCHEMA_VERSION),
        event.actor,
        event.correlation_id,
        json.dumps(event.facts(), ensure_ascii=False, sort_keys=True),
    ]


def decode(position: str, fields: dict[str, str]) -> ev.Event:
    """The event stored at ``position``; raises UndecodableEventError if it is not one."""
    try:
        cls = ev.EVENT_TYPES[fields["type"]]
        facts = _restore_tuples(cls, json.loads(fields["data"]))
        return cls(
            task_id=fields["task_id"],
            version=int(fields["version"]),
            event_id=fields["event_id"],
            occurred_at=datetime.fromisoformat(fields["at"]),
            actor=fields.get("actor", ""),
            correlation_id=fields.get("correlation_id", ""),
            **facts,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UndecodableEventError(position, f"{type(exc).__name__}: {exc}") from exc


def chain_hash(prev: str, values: list[str]) -> str:
    """SHA-1 over the previous hash and the length-prefixed entry values.

    The Lua append script computes the same digest with ``redis.sha1hex``.
    """
    parts = [prev] + values
    text = "".join(f"{len(p.encode())}:{p}" for p in parts)
    return hashlib.sha1(text.encode()).hexdigest()


def _restore_tuples(cls: type[ev.Event], facts: dict[str, Any]) -> dict[str, Any]:
    tuple_fields = {
        f.name for f in dataclasses.fields(cls) if str(f.type).startswith("tuple")
    }
    return {k: tuple(v) if k in tuple_fields else v for k, v in facts.items()}
