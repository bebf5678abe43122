"""The HTTP API in process, on real Redis and Neo4j: commands, reads, bad input."""

from __future__ import annotations

import dataclasses
import json

import pytest
from falcon import testing

from domain import events as ev
from entrypoints.api import create_app
from entrypoints.bootstrap import Container
from entrypoints.projector import Projector
from tests.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SUBMIT = "/api/v1/commands/norms-update"


@pytest.fixture
def client(container):
    return testing.TestClient(create_app(container))


def stream_types(container) -> list[str]:
    entries = container.redis.xrange(container.event_store.stream_key)
    return [fields["type"] for _, fields in entries]


def test_a_submission_is_accepted_and_recorded_before_the_answer(client, container):
    response = client.simulate_post(SUBMIT, headers=AUTH)

    assert response.status_code == 202
    task_id = response.json["task_id"]
    assert response.json["url"] == f"/api/v1/tasks/{task_id}"
    assert stream_types(container) == ["TaskSubmitted"]
    assert client.simulate_get(f"/api/v1/tasks/{task_id}").json["status"] == "queued"


def test_the_token_name_is_recorded_as_who_submitted(client):
    task_id = client.simulate_post(SUBMIT, headers=AUTH).json["task_id"]

    events = client.simulate_get(f"/api/v1/tasks/{task_id}/events").json["events"]

    assert events[0]["actor"] == "token:operator"
    assert events[0]["type"] == "TaskSubmitted"


def test_an_idempotency_key_makes_a_repeat_return_the_first_task(client, container):
    headers = {**AUTH, "Idempotency-Key": "ops-2026-12-03"}

    first = client.simulate_post(SUBMIT, headers=headers)
    second = client.simulate_post(SUBMIT, headers=headers)

    assert second.json["task_id"] == first.json["task_id"]
    assert second.json["created"] is False
    assert stream_types(container) == ["TaskSubmitted"]


@pytest.mark.parametrize(
    "headers, status, title",
    [
        ({}, 401, "Missing token"),
        ({"Authorization": "Bearer wrong"}, 401, "Wrong token"),
        ({"Authorization": "Basic abc"}, 401, "Missing token"),
    ],
)
def test_commands_without_the_right_token_are_refused(
    client, container, headers, status, title
):
    response = client.simulate_post(SUBMIT, headers=headers)

    assert response.status_code == status
    assert response.json["title"] == title
    assert stream_types(container) == []


@pytest.mark.parametrize(
    "body, content_type, status, words",
    [
        ("{not json", "application/json", 400, "not valid JSON"),
        ("[1, 2]", "application/json", 400, "JSON object"),
        ('{"sources": "x.csv"}', "application/json", 400, "list of strings"),
        ('{"priority": "urgent"}', "application/json", 400, "priority"),
        ('{"colour": "red"}', "application/json", 422, "colour"),
        ('{"sources": []}', "text/plain", 415, "application/json"),
        ('{"sources": ["/etc/passwd"]}', "application/json", 400, "outside"),
        ('{"sources": ["missing.csv"]}', "application/json", 400, "does not exist"),
        ('{"sources": ["ftp://host/a.csv"]}', "application/json", 400, "http"),
        ('{"sources": ["file:///etc/passwd"]}', "application/json", 400, "http"),
        ('{"sources": ["../../etc/passwd"]}', "application/json", 400, "outside"),
    ],
)
def test_bad_commands_get_a_4xx_naming_the_problem(
    client, container, body, content_type, status, words
):
    response = client.simulate_post(
        SUBMIT, body=body, headers={**AUTH, "Content-Type": content_type}
    )

    assert response.status_code == status
    assert words in response.json["description"]
    assert stream_types(container) == []


def test_a_body_over_the_limit_is_refused(client, container):
    body = json.dumps({"sources": ["a" * 100_000]})

    response = client.simulate_post(
        SUBMIT, body=body, headers={**AUTH, "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert stream_types(container) == []


def test_a_source_inside_the_roots_is_accepted(client, catalogues):
    body = json.dumps({"sources": [str(catalogues / "catalogue-2024.csv")]})

    response = client.simulate_post(
        SUBMIT, body=body, headers={**AUTH, "Content-Type": "application/json"}
    )

    assert response.status_code == 202


def test_an_unknown_task_is_404(client):
    assert client.simulate_get("/api/v1/tasks/nope").status_code == 404
    assert client.simulate_get("/api/v1/tasks/nope/events").status_code == 404


def test_the_queue_lists_projected_tasks_filtered_and_paged(client, container):
    ids = [client.simulate_post(SUBMIT, headers=AUTH).json["task_id"] for _ in range(3)]
    projector = Projector(container)
    projector.prepare()
    projector.step(">", None)

    page = client.simulate_get(
        "/api/v1/queue", params={"status": "queued", "limit": 2}
    ).json

    assert page["total"] == 3
    assert len(page["tasks"]) == 2
    assert {t["id"] for t in page["tasks"]} <= set(ids)
    assert page["counts"] == {"queued": 3}


@pytest.mark.parametrize("query", ["status=lost", "limit=0", "limit=x", "offset=-1"])
def test_bad_queue_parameters_are_400(client, query):
    response = client.simulate_get("/api/v1/queue", query_string=query)

    assert response.status_code == 400
    assert response.json["title"]


def test_health_reports_both_backends(client):
    response = client.simulate_get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok", "redis": "ok", "neo4j": "ok"}


def test_the_openapi_document_describes_every_route(client):
    document = client.simulate_get("/openapi.json").json

    assert set(document["paths"]) >= {
        "/api/v1/commands/norms-update",
        "/api/v1/tasks/{task_id}",
        "/api/v1/tasks/{task_id}/events",
        "/api/v1/queue",
        "/healthz",
        "/api/v1/norms",
        "/api/v1/norms/{code}",
    }
    responses = document["paths"]["/api/v1/commands/norms-update"]["post"]["responses"]
    assert {"202", "400", "401", "413", "415", "422"} <= set(responses)


@pytest.mark.parametrize(
    "body, words",
    [
        ('{"sources": ["\\ud800"]}', "not valid Unicode"),
        ('{"sources": ["http://[::1/x.csv"]}', "not a valid URL"),
        ('{"sources": ["http://h:99999/x.csv"]}', "not a valid URL"),
        ('{"sources": ["http://user:secret@example.org/a.csv"]}', "credentials"),
        ('{"sources": ["~root/a.csv"]}', "cannot be used"),
        ('{"sources": ["' + "a" * 300 + '.csv"]}', "cannot be used"),
        ('{"sources": ["line\\nbreak.csv"]}', "control characters"),
        ("[" * 30000 + "]" * 30000, "not valid JSON"),
    ],
)
def test_hostile_sources_get_a_400_naming_the_problem(client, container, body, words):
    response = client.simulate_post(
        SUBMIT, body=body, headers={**AUTH, "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert words in response.json["description"]
    assert stream_types(container) == []


def test_a_source_on_an_internal_address_is_refused_unless_allowed(container):
    strict = dataclasses.replace(container.settings, fetch_private_hosts=False)
    client = testing.TestClient(create_app(Container(strict)))

    response = client.simulate_post(
        SUBMIT, json={"sources": ["http://127.0.0.1:6379/x.csv"]}, headers=AUTH
    )

    assert response.status_code == 400
    assert "internal address" in response.json["description"]


@pytest.mark.parametrize(
    "query", ["offset=99999999999999999999", "since=999999999999999-999999999"]
)
def test_out_of_range_paging_is_400(client, query):
    assert client.simulate_get("/api/v1/queue", query_string=query).status_code == 400


def test_a_long_history_is_read_in_pages(client, container):
    task_id = client.simulate_post(SUBMIT, headers=AUTH).json["task_id"]
    store = container.event_store
    store.append(
        task_id,
        [ev.TaskStarted(task_id=task_id)]
        + [ev.TaskProgressed(task_id=task_id, percent=p) for p in range(10)],
        1,
    )

    first = client.simulate_get(
        f"/api/v1/tasks/{task_id}/events", params={"limit": 5}
    ).json
    last = client.simulate_get(
        f"/api/v1/tasks/{task_id}/events", params={"offset": 10, "limit": 5}
    ).json

    assert [e["version"] for e in first["events"]] == [1, 2, 3, 4, 5]
    assert first["total"] == 12 and first["next_offset"] == 5
    assert [e["version"] for e in last["events"]] == [11, 12]
    assert last["next_offset"] is None


def test_a_cancelled_task_is_retried_by_hand_as_a_new_linked_task(client):
    task_id = client.simulate_post(SUBMIT, headers=AUTH).json["task_id"]
    cancelled = client.simulate_post(f"/api/v1/tasks/{task_id}/cancel", headers=AUTH)

    retried = client.simulate_post(f"/api/v1/tasks/{task_id}/retry", headers=AUTH)
    again = client.simulate_post(f"/api/v1/tasks/{task_id}/retry", headers=AUTH)

    assert cancelled.status_code == 202 and cancelled.json["status"] == "cancelled"
    assert retried.status_code == 202
    assert retried.headers["Location"] == retried.json["url"]
    assert retried.json["retry_of"] == task_id
    assert again.json["task_id"] == retried.json["task_id"]
    new = client.simulate_get(retried.json["url"]).json
    assert new["retry_of"] == task_id and new["status"] == "queued"


def test_a_running_or_queued_task_cannot_be_retried(client):
    task_id = client.simulate_post(SUBMIT, headers=AUTH).json["task_id"]

    response = client.simulate_post(f"/api/v1/tasks/{task_id}/retry", headers=AUTH)

    assert response.status_code == 409
    assert "queued" in response.json["description"]
