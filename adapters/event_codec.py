"""How events are written as flat string fields, and read back.

One stream entry holds these fields, in this order (the order matters for the hash):
``event_id``, ``task_id``, ``type``, ``version``, ``at`` (ISO 8601, UTC), ``schema``
(schema version of ``data``), ``actor``, ``correlation_id``, ``data`` (the event's own
facts as a JSON object). The store adds ``prev`` and ``hash`` (the tamper chain).

Each event type has its own schema version (``SCHEMA_VERSIONS``). An entry written
at an older version is brought up to the current one on reading, by the upcasters
in ``UPCASTERS``, and only here: the rest of the code sees current events only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
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


SCHEMA_VERSIONS: dict[str, int] = {"TaskSubmitted": 2}
"""The version each event type is written at; types not named are at version 1.

TaskSubmitted 2: a submission names the task it retries (``retry_of``, empty for a
first attempt); version 1 entries were written before retries existed."""


def schema_version(type_name: str) -> int:
    """The schema version ``type_name`` is written at now."""
    return SCHEMA_VERSIONS.get(type_name, ev.SCHEMA_VERSION)


def _submitted_1_to_2(facts: dict[str, Any]) -> dict[str, Any]:
    return {**facts, "retry_of": facts.get("retry_of", "")}


UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("TaskSubmitted", 1): _submitted_1_to_2,
}
"""(type, version) -> the function that turns facts of that version into the next."""


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
        str(schema_version(event.type_name)),
        event.actor,
        event.correlation_id,
        json.dumps(event.facts(), ensure_ascii=False, sort_keys=True),
    ]


def decode(position: str, fields: dict[str, str]) -> ev.Event:
    """The event stored at ``position``; raises UndecodableEventError if it is not one."""
    try:
        cls = ev.EVENT_TYPES[fields["type"]]
        facts = upcast(
            cls.type_name, int(fields.get("schema") or 1), json.loads(fields["data"])
        )
        facts = _restore_tuples(cls, facts)
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


def upcast(type_name: str, schema: int, facts: dict[str, Any]) -> dict[str, Any]:
    """``facts`` written at ``schema``, brought up to the current version."""
    current = schema_version(type_name)
    if schema > current:
        raise ValueError(f"schema {schema} of {type_name} is newer than {current}")
    for version in range(schema, current):
        facts = UPCASTERS[(type_name, version)](facts)
    return facts


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
