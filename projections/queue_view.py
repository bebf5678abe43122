"""The queue view: one row per task with its status, progress and times.

A batch of events becomes one change per task: the properties its events set, in
order, and the highest version and stream position among them. Every property is
an absolute value, so applying a change to a row that already holds some of these
events gives the same row as applying them one by one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from domain import events as ev
from domain.ports import RecordedEvent


@dataclass
class TaskChange:
    """What a batch of events changes in one task's row."""

    task_id: str
    version: int = 0
    position: str = ""
    properties: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        return {
            "id": self.task_id,
            "version": self.version,
            "position": self.position,
            "ordinal": ordinal(self.position),
            "properties": self.properties,
        }


def changes(batch: list[RecordedEvent]) -> list[TaskChange]:
    """One change per task touched by ``batch``, in order of first appearance."""
    by_task: dict[str, TaskChange] = {}
    for recorded in batch:
        event = recorded.event
        change = by_task.setdefault(event.task_id, TaskChange(event.task_id))
        change.properties.update(properties_of(event))
        change.version = max(change.version, event.version)
        change.position = recorded.position
    return list(by_task.values())


def properties_of(event: ev.Event) -> dict[str, Any]:
    """The row properties that ``event`` sets; empty for events of other views."""
    at = timestamp(event)
    match event:
        case ev.TaskSubmitted():
            return {
                "type": event.task_type,
                "status": "queued",
                "priority": event.priority,
                "submitted_at": at,
                "submitted_by": event.actor,
                "correlation_id": event.correlation_id,
                "arguments": json.dumps(event.arguments, ensure_ascii=False),
                "percent": 0.0,
                "attempts": 0,
                "retry_of": event.retry_of,
                "cancel_requested": False,
            }
        case ev.TaskStarted():
            return {
                "status": "running",
                "started_at": at,
                "attempts": event.attempt,
                "percent": 0.0,
                "done": 0,
                "total": 0,
                "worker": event.worker,
            }
        case ev.TaskProgressed():
            return {"percent": event.percent, "done": event.done, "total": event.total}
        case ev.TaskSucceeded():
            return {
                "status": "succeeded",
                "finished_at": at,
                "percent": 100.0,
                "report": json.dumps(event.report, ensure_ascii=False),
            }
        case ev.TaskFailed():
            return {
                "status": "failed",
                "finished_at": at,
                "error": _error(event),
                "report": json.dumps(event.report, ensure_ascii=False),
            }
        case ev.TaskCancelRequested():
            return {"cancel_requested": True, "cancel_reason": event.reason}
        case ev.TaskCancelled():
            return {
                "status": "cancelled",
                "finished_at": at,
                "retry_at": "",
                "report": json.dumps(event.report, ensure_ascii=False),
            }
        case ev.TaskRetryScheduled():
            return {
                "status": "queued",
                "retry_at": event.retry_at,
                "error": _error(event),
            }
        case ev.TaskDeadLettered():
            return {
                "status": "dead_lettered",
                "finished_at": at,
                "retry_at": "",
                "error": _error(event),
            }
    return {}


def _error(event) -> str:
    error = {"type": event.error_type, "message": event.message}
    return json.dumps(error, ensure_ascii=False)


def ordinal(position: str) -> int:
    """A stream id as one increasing integer (milliseconds, then sequence), so that
    positions compare as numbers."""
    millis, _, sequence = position.partition("-")
    return int(millis) * 1_000_000 + int(sequence or 0)


def timestamp(event: ev.Event) -> str:
    """UTC time as a fixed-width ISO string, so that text order is time order."""
    return event.occurred_at.isoformat(timespec="microseconds")
