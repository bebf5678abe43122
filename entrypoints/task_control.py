"""HTTP resources for operators' control of tasks: cancel, retry, dead letters,
and why a task is waiting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import falcon

from domain import services
from domain.commands import PRIORITIES
from domain.tasks import Task
from entrypoints import views
from entrypoints.bootstrap import Container

ReadBody = Callable[[falcon.Request, int, set[str]], dict[str, Any]]


def waiting(container: Container, task: Task) -> str | None:
    """Why ``task`` is not running, from the queue graph and the worker slots."""
    if task.status.value != "queued" or task.cancel_requested or task.retry_at:
        return services.explain(task, services.Waiting())
    ahead = list(PRIORITIES[: PRIORITIES.index(task.priority) + 1])
    facts = services.Waiting(
        queued_ahead=container.queue_graph.queued_ahead(task.task_id, ahead),
        slot_holder=container.coordination.slot_holder(task.task_type),
    )
    return services.explain(task, facts)


class CancelResource:
    FIELDS = {"reason"}

    def __init__(self, container: Container, auth, read_body: ReadBody):
        self._c = container
        self._auth = auth
        self._read = read_body

    def on_post(self, req: falcon.Request, resp: falcon.Response, task_id: str):
        actor = self._auth.actor(req)
        body = self._read(req, self._c.settings.max_body_bytes, self.FIELDS)
        reason = body.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 500:
            raise falcon.HTTPBadRequest(
                title="Bad reason",
                description="'reason' must be a string of at most 500 characters.",
            )

        task = services.cancel(self._c.event_store, task_id, actor, reason)

        resp.status = falcon.HTTP_202
        resp.media = views.task(task)


class RetryResource:
    def __init__(self, container: Container, auth, read_body: ReadBody):
        self._c = container
        self._auth = auth
        self._read = read_body

    def on_post(self, req: falcon.Request, resp: falcon.Response, task_id: str):
        actor = self._auth.actor(req)
        self._read(req, self._c.settings.max_body_bytes, set())

        task = services.retry(
            self._c.event_store,
            self._c.task_queue,
            task_id,
            actor,
            self._c.settings.idempotency_ttl_s,
        )

        views.accepted(resp, task, retry_of=task_id)


class DeadLettersResource:
    def __init__(self, container: Container):
        self._c = container

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        offset = req.get_param_as_int("offset", min_value=0, max_value=10**9, default=0)
        limit = req.get_param_as_int("limit", min_value=1, max_value=500, default=50)

        page = self._c.queue_graph.page("dead_lettered", offset, limit)

        resp.media = {
            "tasks": page.tasks,
            "total": page.total,
            "offset": offset,
            "limit": limit,
        }
