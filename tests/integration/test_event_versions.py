"""Entries written by older code are read back as current events."""

from __future__ import annotations

import json

from adapters import event_codec
from domain import services
from domain.tasks import TaskStatus
from tests.integration import scripted_history as script


def write_version_1_submission(container, task_id: str) -> str:
    """A TaskSubmitted entry as the store wrote it before schema version 2, made
    with raw Redis commands: no ``retry_of`` in its data, ``schema`` 1."""
    r, prefix = container.redis, container.settings.prefix
    facts = {
        "arguments": {"sources": []},
        "idempotency_key": "",
        "priority": "high",
        "task_type": "update_norms",
    }
    values = [
        "e-old",
        task_id,
        "TaskSubmitted",
        "1",
        "2025-06-01T10:00:00+00:00",
        "1",
        "token:ops",
        task_id,
        json.dumps(facts, sort_keys=True),
    ]
    entry = dict(zip(event_codec.FIELD_ORDER, values))
    entry["prev"], entry["hash"] = "", event_codec.chain_hash("", values)

    position = r.xadd(f"{prefix}:events", entry)
    r.rpush(f"{prefix}:task:{task_id}:events", position)
    r.hset(f"{prefix}:task-versions", task_id, 1)
    r.set(f"{prefix}:chain-head", entry["hash"])
    return position


def test_a_version_1_submission_written_by_hand_is_read_back_upgraded(container):
    write_version_1_submission(container, "old-task")

    recorded = container.event_store.history("old-task")
    task = services.load(container.event_store, "old-task")

    assert recorded[0].event.retry_of == ""
    assert recorded[0].event.priority == "high"
    assert task.status is TaskStatus.QUEUED


def test_new_submissions_are_written_at_schema_version_2(container):
    write_version_1_submission(container, "old-task")

    script.submit(container.event_store, "new-task")

    entries = container.redis.xrange(container.event_store.stream_key)
    assert [(f["task_id"], f["schema"]) for _, f in entries] == [
        ("old-task", "1"),
        ("new-task", "2"),
    ]
