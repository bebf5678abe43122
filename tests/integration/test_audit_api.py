"""The audit side of the HTTP API: freshness of projection reads, the event log,
lineage, the event schema and the queue as of a moment."""

from __future__ import annotations

import jsonschema
import pytest
from falcon import testing

from entrypoints.api import create_app
from entrypoints.replay import Replay
from tests.integration import scripted_history as script
from tests.integration.test_norms_update import project


@pytest.fixture
def client(container):
    return testing.TestClient(create_app(container))


@pytest.fixture
def two_runs(container):
    """r1 registers СП 1 and СП 2; r2 supersedes СП 1 by СП 2; all projected."""
    store = container.event_store
    script.finished_task(store, "r1", ["СП 1", "СП 2"])
    script.submit(store, "r2")
    script.start(store, "r2")
    script.supersede(store, "r2", "СП 1", "СП 2")
    script.succeed(store, "r2")
    project(container)


def newest(container) -> str:
    return container.redis.xrevrange(container.event_store.stream_key, count=1)[0][0]


@pytest.mark.usefixtures("two_runs")
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/queue",
        "/api/v1/norms",
        "/api/v1/norms/СП 1",
        "/api/v1/tasks/r1/changes",
        "/api/v1/queue?since=0-0",
    ],
)
def test_a_projection_read_says_how_current_it_is(client, container, path):
    head = newest(container)
    fresh = client.simulate_get(path).json["freshness"]
    script.finished_task(container.event_store, "r3", ["СП 3"])

    behind = client.simulate_get(path).json["freshness"]

    assert fresh == {"position": head, "head": head, "lag_events": 0, "lag_s": 0.0}
    assert behind["position"] == head
    assert behind["head"] == newest(container)
    assert behind["lag_events"] == 5
    assert behind["lag_s"] >= 0


@pytest.mark.usefixtures("two_runs")
def test_the_existing_queue_fields_stay_beside_the_freshness(client):
    page = client.simulate_get("/api/v1/queue").json

    assert {"tasks", "total", "counts", "offset", "limit"} <= page.keys()
    assert page["counts"] == {"succeeded": 2}


@pytest.mark.usefixtures("two_runs")
def test_what_a_run_changed_is_one_request(client):
    changes = client.simulate_get("/api/v1/tasks/r2/changes").json

    assert changes["correlation_id"] == "r2"
    assert [(c["code"], c["kind"]) for c in changes["changes"]] == [
        ("СП 1", "superseded")
    ]


@pytest.mark.usefixtures("two_runs")
def test_which_runs_touched_a_norm_is_one_request(client):
    norm = client.simulate_get("/api/v1/norms/СП 1").json

    assert [(r["task_id"], r["kind"]) for r in norm["runs"]] == [
        ("r1", "registered"),
        ("r2", "superseded"),
    ]


def test_an_unknown_run_has_no_changes(client):
    response = client.simulate_get("/api/v1/tasks/nobody/changes")

    assert response.status_code == 404
    assert response.json["title"] == "Unknown task"


@pytest.mark.usefixtures("two_runs")
def test_the_event_log_pages_through_the_whole_stream_with_a_cursor(client, container):
    seen, cursor = [], None
    while True:
        query = f"limit=4&cursor={cursor}" if cursor else "limit=4"
        page = client.simulate_get("/api/v1/events", query_string=query).json
        seen += [e["position"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    everything = container.redis.xrange(container.event_store.stream_key)
    assert seen == [position for position, _ in everything]


@pytest.mark.usefixtures("two_runs")
@pytest.mark.parametrize(
    "query, expected",
    [
        (
            "task_id=r2",
            ["TaskSubmitted", "TaskStarted", "NormSuperseded", "TaskSucceeded"],
        ),
        ("type=NormRegistered", ["NormRegistered", "NormRegistered"]),
        ("actor=token:ops", ["TaskSubmitted", "TaskSubmitted"]),
        ("correlation_id=r1&type=TaskSucceeded", ["TaskSucceeded"]),
        ("since=2000-01-01T00:00:00Z&until=2001-01-01T00:00:00Z", []),
    ],
)
def test_the_event_log_is_filtered_by_task_type_actor_and_time(client, query, expected):
    page = client.simulate_get("/api/v1/events", query_string=query).json

    assert [e["type"] for e in page["events"]] == expected


@pytest.mark.usefixtures("two_runs")
def test_every_event_in_the_log_matches_the_published_schema(client):
    schema = client.simulate_get("/events.schema.json").json
    events = client.simulate_get("/api/v1/events").json["events"]

    for event in events:
        jsonschema.validate(event, schema)
    assert len(events) == 10


@pytest.mark.parametrize(
    "query", ["cursor=yesterday", "limit=0", "since=noon", "type=TaskTeleported"]
)
def test_bad_event_log_parameters_are_400(client, query):
    response = client.simulate_get("/api/v1/events", query_string=query)

    assert response.status_code == 400
    assert response.json["title"].startswith(("Bad", "Unknown", "Invalid"))


def test_the_queue_as_of_a_moment_is_folded_from_the_stream(client, container):
    store, at = container.event_store, script.T0
    script.submit(store, "t1", at)
    script.start(store, "t1", at.replace(minute=1))
    script.submit(store, "t2", at.replace(minute=2))
    script.succeed(store, "t1", at.replace(minute=3))

    early = client.simulate_get(
        "/api/v1/queue", query_string="as_of=2026-12-01T09:01:30Z"
    ).json
    late = client.simulate_get(
        "/api/v1/queue", query_string="as_of=2026-12-01T09:05:00"
    ).json
    queued = client.simulate_get(
        "/api/v1/queue", query_string="as_of=2026-12-01T09:05:00&status=queued"
    ).json

    assert [(t["task_id"], t["status"]) for t in early["tasks"]] == [("t1", "running")]
    assert [(t["task_id"], t["status"]) for t in late["tasks"]] == [
        ("t2", "queued"),
        ("t1", "succeeded"),
    ]
    assert late["counts"] == {"queued": 1, "succeeded": 1}
    assert [t["task_id"] for t in queued["tasks"]] == ["t2"]


def test_a_bad_as_of_is_400(client):
    response = client.simulate_get("/api/v1/queue", query_string="as_of=soon")

    assert response.status_code == 400
    assert response.json["title"] == "Bad as_of"


def test_the_system_history_is_readable_but_is_not_a_task(client, container):
    Replay(container, "cli:alice", progress=False).rebuild()

    events = client.simulate_get("/api/v1/tasks/system/events").json["events"]
    task = client.simulate_get("/api/v1/tasks/system")

    assert [e["type"] for e in events] == ["ProjectionsReplayed"]
    assert task.status_code == 404


def test_the_openapi_document_describes_the_audit_routes(client):
    paths = client.simulate_get("/openapi.json").json["paths"]

    assert {
        "/api/v1/events",
        "/api/v1/tasks/{task_id}/changes",
        "/events.schema.json",
    } <= paths.keys()
    queue_parameters = [p["name"] for p in paths["/api/v1/queue"]["get"]["parameters"]]
    assert "as_of" in queue_parameters and "since" in queue_parameters
