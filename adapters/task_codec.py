"""A task's folded state as one JSON document, the snapshot the store keeps so that
reading a task needs no fold of its (possibly very long) history."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from domain.tasks import Task, TaskStatus

TIMES = ("submitted_at", "started_at", "finished_at")


def encode_task(task: Task) -> str:
    data: dict[str, Any] = dataclasses.asdict(task)
    data["status"] = task.status.value
    for name in TIMES:
        value = getattr(task, name)
        data[name] = value.isoformat() if value else None
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def decode_task(text: str) -> Task:
    data = json.loads(text)
    data["status"] = TaskStatus(data["status"])
    for name in TIMES:
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    known = {f.name for f in dataclasses.fields(Task)}
    return Task(**{k: v for k, v in data.items() if k in known})
