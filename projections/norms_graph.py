"""The norms graph: one row per norm, the supersession links, and which task run
changed which norm.

A batch becomes one state change per norm code (properties set in event order,
all absolute values) and one ``CHANGED`` link per norm event. Each carries the
stream ordinal of the event, so the writer can skip what a node already holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain import events as ev
from domain.ports import RecordedEvent
from projections.queue_view import ordinal

KINDS = {
    ev.NormRegistered: "registered",
    ev.NormRevised: "revised",
    ev.NormSuperseded: "superseded",
}


@dataclass
class NormChange:
    code: str
    ordinal: int = 0
    properties: dict[str, Any] = field(default_factory=dict)


def changes(batch: list[RecordedEvent]) -> tuple[list[dict], list[dict]]:
    """(norm rows, link rows) for the norm events of ``batch``."""
    norms: dict[str, NormChange] = {}
    links: list[dict[str, Any]] = []
    for recorded in batch:
        event = recorded.event
        kind = KINDS.get(type(event))
        if kind is None:
            continue
        at = ordinal(recorded.position)
        change = norms.setdefault(event.code, NormChange(event.code))
        change.properties.update(_properties(event))
        change.ordinal = at
        links.append(
            {
                "task_id": event.task_id,
                "code": event.code,
                "kind": kind,
                "version": event.version,
                "ordinal": at,
                "at": event.occurred_at.isoformat(timespec="microseconds"),
            }
        )
    rows = [
        {"code": c.code, "ordinal": c.ordinal, "properties": c.properties}
        for c in norms.values()
    ]
    return rows, links


def _properties(event: ev.Event) -> dict[str, Any]:
    if isinstance(event, ev.NormSuperseded):
        return {"status": "superseded", "superseded_by": event.superseded_by}
    facts = event.facts()
    facts.pop("changed_fields", None)
    return facts
