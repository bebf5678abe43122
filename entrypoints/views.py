"""How tasks and events are shown to API clients."""

from __future__ import annotations

from typing import Any

from domain.ports import RecordedEvent
from domain.tasks import Task, TaskStatus

STATUSES = tuple(status.value for status in TaskStatus)


def _time(value) -> str | None:
    return value.isoformat(timespec="microseconds") if value else None


def task(t: Task) -> dict[str, Any]:
    return {
        "task_id": t.task_id,
        "type": t.task_type,
        "status": t.status.value,
        "version": t.version,
        "priority": t.priority,
        "arguments": t.arguments,
        "submitted_by": t.submitted_by,
        "correlation_id": t.correlation_id,
        "attempts": t.attempt,
        "progress": {"percent": t.percent, "done": t.done, "total": t.total},
        "submitted_at": _time(t.submitted_at),
        "started_at": _time(t.started_at),
        "finished_at": _time(t.finished_at),
        "report": t.report or None,
        "error": t.error or None,
        "retry_of": t.retry_of or None,
        "retry_at": t.retry_at or None,
        "cancel_requested": t.cancel_requested,
        "cancel_reason": t.cancel_reason or None,
    }


def event(recorded: RecordedEvent) -> dict[str, Any]:
    e = recorded.event
    return {
        "position": recorded.position,
        "event_id": e.event_id,
        "type": e.type_name,
        "version": e.version,
        "at": _time(e.occurred_at),
        "actor": e.actor,
        "correlation_id": e.correlation_id,
        "data": e.facts(),
    }


def accepted(resp, t: Task, **extra: Any) -> None:
    """Answer 202 for a task just recorded, pointing at where to follow it."""
    url = f"/api/v1/tasks/{t.task_id}"
    resp.status = "202 Accepted"
    resp.set_header("Location", url)
    resp.media = {"task_id": t.task_id, "url": url, "status": t.status.value, **extra}
