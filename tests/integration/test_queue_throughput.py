"""Tasks finished per minute, counted in the Neo4j queue graph and served over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from falcon import testing

from entrypoints.api import create_app


@pytest.fixture
def client(container):
    return testing.TestClient(create_app(container))


def finished(container, task_id: str, status: str, at: datetime) -> None:
    container.queue_graph.apply(
        [
            {
                "id": task_id,
                "version": 3,
                "position": "1-0",
                "ordinal": 1,
                "properties": {
                    "status": status,
                    "finished_at": at.isoformat(timespec="microseconds"),
                },
            }
        ]
    )


def test_finished_tasks_are_counted_in_the_minute_they_finished(client, container):
    now = datetime.now(timezone.utc)
    finished(container, "a", "succeeded", now)
    finished(container, "b", "succeeded", now)
    finished(container, "c", "failed", now)
    finished(container, "old", "succeeded", now - timedelta(hours=2))

    body = client.simulate_get("/api/v1/queue/throughput", params={"minutes": 60}).json

    minutes = {m["minute"]: m for m in body["per_minute"]}
    this_minute = minutes[now.replace(second=0, microsecond=0).isoformat()]
    assert len(minutes) == 60
    assert this_minute["by_status"] == {"succeeded": 2, "failed": 1}
    assert this_minute["finished"] == 3
    assert sum(m["finished"] for m in minutes.values()) == 3


@pytest.mark.parametrize("query", ["minutes=0", "minutes=1441", "minutes=x"])
def test_a_bad_number_of_minutes_is_400(client, query):
    response = client.simulate_get("/api/v1/queue/throughput", query_string=query)

    assert response.status_code == 400
