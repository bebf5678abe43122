"""The audit routes of the API: the event log, what one run changed, the published
event schema, and the queue as it stood at a moment."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

import falcon

from adapters.redis_audit import id_key
from domain import events as ev
from entrypoints import event_schema, history, views
from entrypoints.bootstrap import Container

STREAM_ID = re.compile(r"\d{1,15}-\d{1,20}")
TIME_EXAMPLE = "2026-12-01T09:00:00Z"


class EventsResource:
    """``GET /api/v1/events``: the whole stream, oldest first, a page at a time."""

    def __init__(self, container: Container):
        self._c = container

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit = req.get_param_as_int("limit", min_value=1, max_value=1000, default=100)
        wanted = _filter(req)
        since, until = time_param(req, "since"), time_param(req, "until")
        after = max(
            _position(req, "cursor") or "0-0",
            history.position_before(since) if since else "0-0",
            key=id_key,
        )

        events, cursor = history.events_page(
            self._c,
            wanted,
            after,
            history.position_at(until, last=True) if until else "+",
            limit,
        )

        resp.media = {"events": events, "next_cursor": cursor, "limit": limit}


class TaskChangesResource:
    """``GET /api/v1/tasks/{id}/changes``: the norms one run changed."""

    def __init__(self, container: Container):
        self._c = container

    def on_get(self, req: falcon.Request, resp: falcon.Response, task_id: str) -> None:
        changes = self._c.norms_graph.task_changes(task_id)
        if changes is None:
            raise falcon.HTTPNotFound(
                title="Unknown task",
                description=f"The norms graph knows no task {task_id!r}.",
            )
        resp.media = {**changes, "freshness": history.freshness(self._c)}


class EventSchemaResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = event_schema.document()


def queue_as_of(
    container: Container,
    req: falcon.Request,
    status: str | None,
    offset: int,
    limit: int,
) -> dict[str, Any]:
    """The queue page as the stream says it stood at the ``as_of`` parameter."""
    moment = time_param(req, "as_of")
    tasks = history.queue_as_of(container, moment)
    counts = Counter(t.status.value for t in tasks)
    chosen = [t for t in tasks if status is None or t.status.value == status]
    return {
        "tasks": [views.task(t) for t in chosen[offset : offset + limit]],
        "total": len(chosen),
        "counts": dict(counts),
        "offset": offset,
        "limit": limit,
        "as_of": moment.isoformat(),
    }


def time_param(req: falcon.Request, name: str) -> datetime | None:
    """A query parameter holding an ISO 8601 time (UTC when it names no zone)."""
    raw = req.get_param(name)
    if raw is None:
        return None
    try:
        return history.utc(datetime.fromisoformat(raw))
    except ValueError:
        raise falcon.HTTPBadRequest(
            title=f"Bad {name}",
            description=f"'{name}' must be an ISO 8601 time such as {TIME_EXAMPLE} "
            "(URL-encode a '+' in the zone)",
        ) from None


def _position(req: falcon.Request, name: str) -> str | None:
    raw = req.get_param(name)
    if raw is not None and not STREAM_ID.fullmatch(raw):
        raise falcon.HTTPBadRequest(
            title=f"Bad {name}",
            description=f"'{name}' must be a stream position such as "
            "1733212800000-0, as returned in next_cursor",
        )
    return raw


def _filter(req: falcon.Request) -> history.EventFilter:
    kind = req.get_param("type")
    if kind is not None and kind not in ev.EVENT_TYPES:
        raise falcon.HTTPBadRequest(
            title="Unknown type",
            description=f"'type' must be one of {', '.join(sorted(ev.EVENT_TYPES))}",
        )
    return history.EventFilter(
        task_id=req.get_param("task_id"),
        type=kind,
        actor=req.get_param("actor"),
        correlation_id=req.get_param("correlation_id"),
    )
