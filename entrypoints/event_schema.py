"""The JSON Schema of events as the API shows them, and the view that shows them.

Generated from the event classes in ``domain.events``, so a new event type is
covered as soon as it is registered there. The repository keeps a copy next to this
module (``events.schema.json``); regenerate it with
``python -m entrypoints.event_schema --write`` after changing an event class.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from pathlib import Path
from typing import Any

from adapters.event_codec import FIELD_ORDER, schema_version
from domain import events as ev
from domain.ports import RecordedEvent

SCHEMA_FILE = Path(__file__).resolve().parent / "events.schema.json"
SCHEMA_ID = "/events.schema.json"

ENVELOPE: dict[str, Any] = {
    "position": {"type": "string", "description": "the stream entry id"},
    "event_id": {"type": "string"},
    "task_id": {
        "type": "string",
        "description": f"'{ev.SYSTEM_TASK_ID}' for operations on the system",
    },
    "type": {"type": "string"},
    "version": {
        "type": "integer",
        "minimum": 1,
        "description": "position in the task's own history, from 1",
    },
    "at": {"type": "string", "format": "date-time"},
    "schema": {
        "type": "integer",
        "minimum": 1,
        "description": "schema version of data",
    },
    "actor": {
        "type": "string",
        "description": "who caused it: token:<name>, scheduler, worker:<name>, "
        "cli:<user>",
    },
    "correlation_id": {
        "type": "string",
        "description": "the command that started the chain",
    },
    "data": {"type": "object", "description": "the facts particular to the type"},
}
REQUIRED = list(FIELD_ORDER)
SIMPLE_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def document() -> dict[str, Any]:
    """The schema of one event, with one definition per registered event type."""
    names = sorted(ev.EVENT_TYPES)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Bldr Queue event",
        "type": "object",
        "required": REQUIRED,
        "properties": {**ENVELOPE, "type": {"enum": names}},
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in names],
        "$defs": {name: definition(ev.EVENT_TYPES[name]) for name in names},
    }


def definition(cls: type[ev.Event]) -> dict[str, Any]:
    """The schema of one event type: its name, schema version and facts."""
    hints = typing.get_type_hints(cls)
    common = {f.name for f in dataclasses.fields(ev.Event)}
    facts = [f.name for f in dataclasses.fields(cls) if f.name not in common]
    data = {
        "type": "object",
        "additionalProperties": False,
        "required": facts,
        "properties": {name: json_type(hints[name]) for name in facts},
    }
    described = {"description": _description(cls)} if _description(cls) else {}
    return {
        **described,
        "type": "object",
        "required": ["type", "schema", "data"],
        "properties": {
            "type": {"const": cls.type_name},
            "schema": {"const": schema_version(cls.type_name)},
            "data": data,
        },
    }


def json_type(hint: Any) -> dict[str, Any]:
    """The JSON Schema of a Python type used in an event field."""
    origin = typing.get_origin(hint)
    if hint in SIMPLE_TYPES:
        return {"type": SIMPLE_TYPES[hint]}
    if origin is dict:
        return {"type": "object"}
    if origin in (tuple, list):
        item = typing.get_args(hint)[0]
        return {"type": "array", "items": json_type(item)}
    if hint is Any:
        return {}
    raise TypeError(f"no JSON Schema for the event field type {hint!r}")


def event_document(recorded: RecordedEvent) -> dict[str, Any]:
    """An event as the published event schema describes it."""
    e = recorded.event
    return {
        "position": recorded.position,
        "event_id": e.event_id,
        "task_id": e.task_id,
        "type": e.type_name,
        "version": e.version,
        "at": e.occurred_at.isoformat(timespec="microseconds"),
        "schema": schema_version(e.type_name),
        "actor": e.actor,
        "correlation_id": e.correlation_id,
        "data": json.loads(json.dumps(e.facts(), ensure_ascii=False)),
    }


def rendered() -> str:
    """The schema as the repository keeps it."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def _description(cls: type[ev.Event]) -> str:
    doc = cls.__doc__ or ""
    # A class without a docstring gets the dataclass signature as its __doc__.
    return "" if doc.startswith(cls.__name__ + "(") else " ".join(doc.split())


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        SCHEMA_FILE.write_text(rendered(), encoding="utf-8")
        return 0
    sys.stdout.write(rendered())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
