"""The API process: Falcon resources wrapped by the Socket.IO server.

Served by gunicorn (``bldr api``) as ``entrypoints.api:create_wsgi()``; the worker
class comes from one setting, and the eventlet worker patches before this imports.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import falcon
import redis
import socketio

from adapters import socketio_live_feed
from adapters.catalogue_sources import check_sources
from adapters.dramatiq_task_queue import TaskQueueError
from adapters.neo4j_queue_graph import GraphError
from adapters.redis_event_store import EventStoreError
from domain import services
from domain.commands import PRIORITIES, Command, ParseBatch, TrainRag, UpdateNorms
from domain.events import SYSTEM_TASK_ID
from domain.norms import KINDS as NORM_KINDS
from domain.norms import STATUSES as NORM_STATUSES
from domain.norms import normalise_code
from domain.errors import (
    DomainError,
    IllegalTransitionError,
    InvalidCommandError,
    TaskNotFoundError,
    VersionConflictError,
)
from entrypoints import audit_api, openapi, views
from entrypoints.bootstrap import Container
from entrypoints.history import freshness
from entrypoints.search import SearchResource
from entrypoints.settings import Settings
from entrypoints.task_control import (
    CancelResource,
    DeadLettersResource,
    RetryResource,
    waiting,
)
from projections import queue_view

logger = logging.getLogger(__name__)

STREAM_ID = re.compile(r"\d{1,13}-\d{1,6}")
MAX_OFFSET = 1_000_000_000
STATIC_DIR = Path(__file__).resolve().parent / "static"
UNAVAILABLE = (EventStoreError, GraphError, TaskQueueError, redis.RedisError)


class Auth:
    """Bearer tokens by name; the name is the identity recorded for a command."""

    def __init__(self, settings: Settings):
        self._names = settings.token_names()

    def actor(self, req: falcon.Request) -> str:
        scheme, _, token = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise falcon.HTTPUnauthorized(
                title="Missing token",
                description="Send 'Authorization: Bearer <token>'.",
                challenges=["Bearer"],
            )
        name = self._names.get(token.strip())
        if name is None:
            raise falcon.HTTPUnauthorized(
                title="Wrong token",
                description="The bearer token is not one of the configured tokens.",
                challenges=["Bearer"],
            )
        return f"token:{name}"


class CommandResource:
    """POST one kind of command: a bearer token, an optional JSON object of known
    fields and an optional Idempotency-Key; 202 once the task is recorded."""

    def __init__(
        self,
        container: Container,
        auth: Auth,
        command: type[Command],
        fields: frozenset[str] = frozenset(),
    ):
        self._c = container
        self._auth = auth
        self._make = command
        self._fields = fields | {"priority"}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self._auth.actor(req)
        body = read_json_object(req, self._c.settings.max_body_bytes, self._fields)
        command = self._command(body, actor, req.get_header("Idempotency-Key") or "")

        task, created = services.submit(
            command,
            self._c.event_store,
            self._c.task_queue,
            self._c.settings.idempotency_ttl_s,
        )

        views.accepted(resp, task, created=created)

    def _command(self, body: dict[str, Any], actor: str, key: str) -> Command:
        sources = _source_list(body) if "sources" in self._fields else None
        priority = body.get("priority", "high")
        if priority not in PRIORITIES:
            choices = ", ".join(PRIORITIES)
            raise InvalidCommandError(f"'priority' must be one of {choices}")
        if len(key) > 200:
            raise InvalidCommandError(
                "the Idempotency-Key header is over 200 characters"
            )
        arguments = {}
        if sources is not None:
            policy = self._c.source_policy
            arguments["sources"] = check_sources(sources, policy)
        return self._make(
            actor=actor, idempotency_key=key, priority=priority, **arguments
        )


def _source_list(body: dict[str, Any]) -> list[str]:
    sources = body.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise InvalidCommandError("'sources' must be a list of strings")
    return sources


class TaskResource:
    def __init__(self, container: Container):
        self._c = container

    def on_get(self, req: falcon.Request, resp: falcon.Response, task_id: str) -> None:
        if task_id == SYSTEM_TASK_ID:
            raise TaskNotFoundError(task_id)
        task = services.load(self._c.event_store, task_id)
        resp.media = {**views.task(task), "waiting": waiting(self._c, task)}


class TaskEventsResource:
    def __init__(self, container: Container):
        self._c = container

    def on_get(self, req: falcon.Request, resp: falcon.Response, task_id: str) -> None:
        offset = _offset(req)
        limit = req.get_param_as_int("limit", min_value=1, max_value=5000, default=1000)
        total = self._c.event_store.version(task_id)
        if not total:
            raise TaskNotFoundError(task_id)

        history = self._c.event_store.history(task_id, offset, limit)

        more = offset + len(history) < total
        resp.media = {
            "task_id": task_id,
            "events": [views.event(r) for r in history],
            "total": total,
            "offset": offset,
            "next_offset": offset + len(history) if more else None,
        }


class QueueResource:
    def __init__(self, container: Container):
        self._c = container

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        status = _choice(req, "status", views.STATUSES)
        offset = _offset(req)
        limit = req.get_param_as_int("limit", min_value=1, max_value=500, default=50)
        since = req.get_param("since")
        if since is not None:
            resp.media = {**self._since(since, limit), "freshness": freshness(self._c)}
            return
        if req.get_param("as_of") is not None:
            resp.media = audit_api.queue_as_of(self._c, req, status, offset, limit)
            return

        page = self._c.queue_graph.page(status, offset, limit)

        resp.media = {
            "tasks": page.tasks,
            "total": page.total,
            "counts": page.counts,
            "offset": offset,
            "limit": limit,
            "freshness": freshness(self._c),
        }

    def _since(self, since: str, limit: int) -> dict[str, Any]:
        if not STREAM_ID.fullmatch(since):
            raise falcon.HTTPBadRequest(
                title="Bad position",
                description="'since' must be a stream position such as 1733212800000-0",
            )
        tasks = self._c.queue_graph.changed_since(queue_view.ordinal(since), limit)
        return {
            "tasks": tasks,
            "since": since,
            "limit": limit,
            "complete": len(tasks) < limit,
        }


class ThroughputResource:
    """Tasks finished per minute over the last ``minutes``, oldest minute first."""

    def __init__(self, container: Container):
        self._c = container

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        minutes = req.get_param_as_int(
            "minutes", min_value=1, max_value=1440, default=60
        )
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        first = now - timedelta(minutes=minutes - 1)

        rows = self._c.queue_graph.finished_per_minute(first.isoformat())

        resp.media = {
            "minutes": minutes,
            "per_minute": per_minute(first, minutes, rows),
        }


def per_minute(first: datetime, minutes: int, rows) -> list[dict[str, Any]]:
    """One entry per minute from ``first``, minutes without finished tasks included."""
    counts: dict[str, dict[str, int]] = {}
    for minute, status, n in rows:
        counts.setdefault(minute, {})[status] = n
    entries = []
    for index in range(minutes):
        start = first + timedelta(minutes=index)
        by_status = counts.get(start.strftime("%Y-%m-%dT%H:%M"), {})
        entries.append(
            {
                "minute": start.isoformat(),
                "finished": sum(by_status.values()),
                "by_status": by_status,
            }
        )
    return entries


class NormsResource:
    def __init__(self, container: Container):
        self._c = container

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        status = _choice(req, "status", NORM_STATUSES)
        kind = _choice(req, "kind", NORM_KINDS)
        offset = _offset(req)
        limit = req.get_param_as_int("limit", min_value=1, max_value=1000, default=100)

        norms, total = self._c.norms_graph.page(status, kind, offset, limit)

        resp.media = {
            "norms": norms,
            "total": total,
            "offset": offset,
            "limit": limit,
            "freshness": freshness(self._c),
        }


class NormResource:
    def __init__(self, container: Container):
        self._c = container

    def on_get(self, req: falcon.Request, resp: falcon.Response, code: str) -> None:
        norm = self._c.norms_graph.norm(normalise_code(code))
        if norm is None:
            raise falcon.HTTPNotFound(
                title="Unknown norm", description=f"No norm with code {code!r}."
            )
        resp.media = {**norm, "freshness": freshness(self._c)}


def _offset(req: falcon.Request) -> int:
    return req.get_param_as_int("offset", min_value=0, max_value=MAX_OFFSET, default=0)


def _choice(req: falcon.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = req.get_param(name)
    if value is not None and value not in allowed:
        raise falcon.HTTPBadRequest(
            title=f"Unknown {name}",
            description=f"'{name}' must be one of {', '.join(allowed)}",
        )
    return value


class HealthResource:
    def __init__(self, container: Container):
        self._c = container

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        checks = {
            "redis": self._check(self._c.redis.ping),
            "neo4j": self._check(self._c.queue_graph.ping),
        }
        healthy = all(v == "ok" for v in checks.values())
        resp.status = falcon.HTTP_200 if healthy else falcon.HTTP_503
        resp.media = {"status": "ok" if healthy else "unavailable", **checks}

    @staticmethod
    def _check(probe) -> str:
        try:
            probe()
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            return f"unreachable: {type(exc).__name__}"
        return "ok"


class OpenAPIResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = openapi.DOCUMENT


class PageResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.stream = open(STATIC_DIR / "index.html", "rb")


def read_json_object(
    req: falcon.Request, limit: int, allowed: set[str]
) -> dict[str, Any]:
    """The request body as a JSON object; 4xx naming what is wrong otherwise."""
    if req.content_length and req.content_length > limit:
        raise falcon.HTTPContentTooLarge(
            title="Body too large", description=f"The body is over {limit} bytes."
        )
    chunked = req.content_length is None and req.get_header("Transfer-Encoding")
    stream = req.stream if chunked else req.bounded_stream
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise falcon.HTTPContentTooLarge(
            title="Body too large", description=f"The body is over {limit} bytes."
        )
    if not raw.strip():
        return {}
    if req.content_type is None or not req.content_type.startswith("application/json"):
        raise falcon.HTTPUnsupportedMediaType(
            title="Wrong content type",
            description="Send the body as 'Content-Type: application/json'.",
        )
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise falcon.HTTPBadRequest(
            title="Malformed JSON", description=f"The body is not valid JSON: {exc}"
        ) from None
    if not isinstance(body, dict):
        raise falcon.HTTPBadRequest(
            title="Wrong body", description="The body must be a JSON object."
        )
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise falcon.HTTPUnprocessableEntity(
            title="Unknown fields",
            description=f"Unknown fields: {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}.",
        )
    return body


def _domain_error(req, resp, exc: DomainError, params) -> None:
    if isinstance(exc, TaskNotFoundError):
        raise falcon.HTTPNotFound(title="Unknown task", description=str(exc))
    if isinstance(exc, (IllegalTransitionError, VersionConflictError)):
        raise falcon.HTTPConflict(title="Not allowed now", description=str(exc))
    raise falcon.HTTPBadRequest(title="Invalid command", description=str(exc))


def _unavailable(req, resp, exc: Exception, params) -> None:
    if not isinstance(exc, UNAVAILABLE):
        logger.exception("unexpected error on %s %s", req.method, req.path)
        raise falcon.HTTPInternalServerError(
            title="Internal error", description="The error was logged on the server."
        )
    logger.error("backing service unavailable: %s", exc)
    raise falcon.HTTPServiceUnavailable(
        title="Service unavailable",
        description=f"A backing service did not answer: {exc}",
    )


def create_app(container: Container) -> falcon.App:
    app = falcon.App()
    app.req_options.strip_url_path_trailing_slash = True
    auth = Auth(container.settings)
    app.add_route("/", PageResource())
    app.add_static_route("/static", str(STATIC_DIR))
    app.add_route("/healthz", HealthResource(container))
    app.add_route("/openapi.json", OpenAPIResource())
    app.add_route("/events.schema.json", audit_api.EventSchemaResource())
    app.add_route("/api/v1/events", audit_api.EventsResource(container))
    app.add_route(
        "/api/v1/tasks/{task_id}/changes", audit_api.TaskChangesResource(container)
    )
    sources = frozenset({"sources"})
    app.add_route(
        "/api/v1/commands/norms-update",
        CommandResource(container, auth, UpdateNorms, sources),
    )
    app.add_route(
        "/api/v1/commands/parse-batch",
        CommandResource(container, auth, ParseBatch, sources),
    )
    app.add_route(
        "/api/v1/commands/train-rag", CommandResource(container, auth, TrainRag)
    )
    app.add_route("/api/v1/search", SearchResource(container))
    app.add_route("/api/v1/tasks/{task_id}", TaskResource(container))
    app.add_route("/api/v1/tasks/{task_id}/events", TaskEventsResource(container))
    app.add_route(
        "/api/v1/tasks/{task_id}/cancel",
        CancelResource(container, auth, read_json_object),
    )
    app.add_route(
        "/api/v1/tasks/{task_id}/retry",
        RetryResource(container, auth, read_json_object),
    )
    app.add_route("/api/v1/dead-letters", DeadLettersResource(container))
    app.add_route("/api/v1/queue", QueueResource(container))
    app.add_route("/api/v1/queue/throughput", ThroughputResource(container))
    app.add_route("/api/v1/norms", NormsResource(container))
    app.add_route("/api/v1/norms/{code}", NormResource(container))
    app.add_error_handler(Exception, _unavailable)
    app.add_error_handler(DomainError, _domain_error)
    return app


def create_socketio(container: Container) -> socketio.Server:
    s = container.settings
    manager = socketio.RedisManager(
        s.redis_url, channel=socketio_live_feed.channel(s.prefix)
    )
    sio = socketio.Server(async_mode=s.socketio_async_mode, client_manager=manager)
    tokens = s.token_names()

    @sio.event
    def connect(sid, environ, auth):
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str):
            token = None
        if token not in tokens:
            raise socketio.exceptions.ConnectionRefusedError(
                "a valid token is required"
            )
        sio.enter_room(sid, socketio_live_feed.ROOM)

    return sio


def create_wsgi(settings: Settings | None = None):
    """The WSGI application gunicorn serves; built once per worker process."""
    from entrypoints import settings as settings_module
    from entrypoints.bootstrap import configure_logging

    settings = settings or settings_module.load()
    configure_logging(settings)
    container = Container(settings)
    return socketio.WSGIApp(create_socketio(container), create_app(container))
