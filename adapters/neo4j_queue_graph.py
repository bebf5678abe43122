"""The queue graph in Neo4j: one ``(:Task {id})`` node per task.

Writes are idempotent: a change is applied only when its version is above the
node's, so a replayed or redelivered batch changes nothing. The uniqueness
constraint on ``Task.id`` keeps two concurrent MERGEs from making two nodes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import neo4j

from adapters.neo4j_client import GraphError, run_query
from adapters.neo4j_projection_space import LIVE, LabelSpace

logger = logging.getLogger(__name__)

SCHEMA = (
    "CREATE CONSTRAINT task_id IF NOT EXISTS FOR (t:Task) REQUIRE t.id IS UNIQUE",
    "CREATE INDEX task_status IF NOT EXISTS FOR (t:Task) ON (t.status)",
    "CREATE INDEX task_submitted IF NOT EXISTS FOR (t:Task) ON (t.submitted_at)",
    "CREATE INDEX task_ordinal IF NOT EXISTS FOR (t:Task) ON (t.ordinal)",
    "CREATE INDEX task_finished IF NOT EXISTS FOR (t:Task) ON (t.finished_at)",
)

APPLY_CHANGES = """
UNWIND $rows AS row
MERGE (t:Task {id: row.id})
WITH t, row WHERE coalesce(t.version, 0) < row.version
SET t += row.properties, t.version = row.version, t.position = row.position,
    t.ordinal = row.ordinal
WITH t WHERE coalesce(t.retry_of, '') <> ''
MERGE (old:Task {id: t.retry_of})
MERGE (t)-[:RETRY_OF]->(old)
"""

QUEUE_PAGE = """
MATCH (t:Task)
WHERE $status IS NULL OR t.status = $status
WITH t ORDER BY t.submitted_at DESC, t.id
SKIP $offset LIMIT $limit
RETURN t {.*} AS task
"""

CHANGED_SINCE = """
MATCH (t:Task) WHERE t.ordinal > $ordinal
WITH t ORDER BY t.ordinal LIMIT $limit
RETURN t {.*} AS task
"""

QUEUED_AHEAD = """
MATCH (me:Task {id: $id})
MATCH (t:Task {status: 'queued'})
WHERE t.id <> me.id AND coalesce(t.retry_at, '') = ''
  AND t.priority IN $ahead AND t.submitted_at <= me.submitted_at
RETURN count(t) AS n
"""

QUEUE_COUNTS = "MATCH (t:Task) RETURN t.status AS status, count(*) AS n"

# finished_at is a fixed-width UTC ISO string, so text order is time order and its
# first 16 characters name the minute.
FINISHED_PER_MINUTE = """
MATCH (t:Task) WHERE t.finished_at >= $since
RETURN substring(t.finished_at, 0, 16) AS minute, t.status AS status, count(*) AS n
"""


@dataclass(frozen=True)
class QueuePage:
    tasks: list[dict[str, Any]]
    total: int
    counts: dict[str, int]


class Neo4jQueueGraph:
    def __init__(
        self, driver: neo4j.Driver, database: str = "neo4j", space: LabelSpace = LIVE
    ):
        self._driver = driver
        self._database = database
        self._space = space

    def ensure_schema(self) -> None:
        for statement in SCHEMA:
            self._run(statement)

    def apply(self, rows: list[dict[str, Any]]) -> None:
        """Apply task changes (``projections.queue_view.TaskChange.as_row``)."""
        if rows:
            self._run(APPLY_CHANGES, rows=rows)

    def page(self, status: str | None, offset: int, limit: int) -> QueuePage:
        records = self._run(QUEUE_PAGE, status=status, offset=offset, limit=limit)
        counts = {r["status"]: r["n"] for r in self._run(QUEUE_COUNTS)}
        total = counts.get(status, 0) if status else sum(counts.values())
        return QueuePage([_readable(r["task"]) for r in records], total, counts)

    def changed_since(self, ordinal: int, limit: int) -> list[dict[str, Any]]:
        """Tasks whose last projected event lies after stream ``ordinal``, oldest
        change first: what a client that saw up to ``ordinal`` has missed."""
        records = self._run(CHANGED_SINCE, ordinal=ordinal, limit=limit)
        return [_readable(r["task"]) for r in records]

    def finished_per_minute(self, since: str) -> list[tuple[str, str, int]]:
        """How many tasks finished at or after ``since`` (UTC ISO time), as
        ``(minute, status, count)`` with the minute as ``YYYY-MM-DDTHH:MM``."""
        records = self._run(FINISHED_PER_MINUTE, since=since)
        return [(r["minute"], r["status"], r["n"]) for r in records]

    def queued_ahead(self, task_id: str, priorities: list[str]) -> int:
        """Queued tasks of ``priorities`` submitted no later than ``task_id``."""
        records = self._run(QUEUED_AHEAD, id=task_id, ahead=priorities)
        return records[0]["n"] if records else 0

    def task(self, task_id: str) -> dict[str, Any] | None:
        records = self._run(
            "MATCH (t:Task {id: $id}) RETURN t {.*} AS task", id=task_id
        )
        return _readable(records[0]["task"]) if records else None

    def ping(self) -> None:
        self._run("RETURN 1")

    def _run(self, query: str, **params: Any) -> list[neo4j.Record]:
        return run_query(
            self._driver, self._database, self._space.cypher(query), params
        )


def _readable(node: dict[str, Any]) -> dict[str, Any]:
    task = dict(node)
    task["task_id"] = task.get("id")
    for name in ("arguments", "report", "error"):
        if isinstance(task.get(name), str):
            task[name] = json.loads(task[name])
    return task


__all__ = ["Neo4jQueueGraph", "QueuePage", "GraphError"]
