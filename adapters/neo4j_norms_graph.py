"""The norms graph in Neo4j.

``(:Norm {code})`` holds the norm as its latest event left it and ``ordinal``, the
stream position of that event: a write with an ordinal at or below it is skipped,
so replays change nothing. ``(:Norm)-[:SUPERSEDED_BY]->(:Norm)`` is rebuilt from
``superseded_by`` on every write. ``(:Task)-[:CHANGED {kind, version}]->(:Norm)`` is
MERGEd on task, norm, kind and version, which one event fixes, so it is made once.
"""

from __future__ import annotations

from typing import Any

import neo4j

from adapters.neo4j_client import GraphError, run_query
from adapters.neo4j_projection_space import LIVE, LabelSpace

SCHEMA = (
    "CREATE CONSTRAINT norm_code IF NOT EXISTS FOR (n:Norm) REQUIRE n.code IS UNIQUE",
)

APPLY_NORMS = """
UNWIND $rows AS row
MERGE (n:Norm {code: row.code})
WITH n, row WHERE coalesce(n.ordinal, -1) < row.ordinal
SET n += row.properties, n.ordinal = row.ordinal
WITH n
OPTIONAL MATCH (n)-[old:SUPERSEDED_BY]->()
DELETE old
WITH DISTINCT n WHERE coalesce(n.superseded_by, '') <> ''
MERGE (next:Norm {code: n.superseded_by})
MERGE (n)-[:SUPERSEDED_BY]->(next)
"""

APPLY_LINKS = """
UNWIND $links AS link
MERGE (t:Task {id: link.task_id})
MERGE (n:Norm {code: link.code})
MERGE (t)-[c:CHANGED {kind: link.kind, version: link.version}]->(n)
SET c.at = link.at, c.ordinal = link.ordinal
"""

NORMS_PAGE = """
MATCH (n:Norm) WHERE n.title IS NOT NULL
  AND ($status IS NULL OR n.status = $status)
  AND ($kind IS NULL OR n.kind = $kind)
WITH n ORDER BY n.code SKIP $offset LIMIT $limit
OPTIONAL MATCH (n)-[:SUPERSEDED_BY]->(next:Norm)
RETURN n {.*, superseded_by: next.code} AS norm
"""

NORMS_COUNT = """
MATCH (n:Norm) WHERE n.title IS NOT NULL
  AND ($status IS NULL OR n.status = $status)
  AND ($kind IS NULL OR n.kind = $kind)
RETURN count(n) AS total
"""

NORM_DETAIL = """
MATCH (n:Norm {code: $code}) WHERE n.title IS NOT NULL
OPTIONAL MATCH (n)-[:SUPERSEDED_BY]->(next:Norm)
OPTIONAL MATCH (older:Norm)-[:SUPERSEDED_BY]->(n)
WITH n, next, collect(older.code) AS replaces_codes
OPTIONAL MATCH (t:Task)-[c:CHANGED]->(n)
WITH n, next, replaces_codes, c, t ORDER BY c.ordinal
RETURN n {.*} AS norm, next.code AS superseded_by, replaces_codes,
       collect(CASE WHEN c IS NULL THEN NULL ELSE
         {task_id: t.id, kind: c.kind, at: c.at, task_status: t.status} END) AS runs
"""

TASK_CHANGES = """
MATCH (t:Task {id: $id})
OPTIONAL MATCH (t)-[c:CHANGED]->(n:Norm)
WITH t, c, n ORDER BY c.ordinal
RETURN t.correlation_id AS correlation_id, t.status AS status,
       collect(CASE WHEN c IS NULL THEN NULL ELSE
         {code: n.code, kind: c.kind, version: c.version, at: c.at,
          title: n.title} END) AS changes
"""


class Neo4jNormsGraph:
    def __init__(
        self, driver: neo4j.Driver, database: str = "neo4j", space: LabelSpace = LIVE
    ):
        self._driver = driver
        self._database = database
        self._space = space

    def ensure_schema(self) -> None:
        for statement in SCHEMA:
            self._run(statement)

    def apply(self, rows: list[dict[str, Any]], links: list[dict[str, Any]]) -> None:
        if rows:
            self._run(APPLY_NORMS, rows=rows)
        if links:
            self._run(APPLY_LINKS, links=links)

    def page(self, status: str | None, kind: str | None, offset: int, limit: int):
        params = {"status": status, "kind": kind}
        records = self._run(NORMS_PAGE, offset=offset, limit=limit, **params)
        total = self._run(NORMS_COUNT, **params)[0]["total"]
        return [_public(r["norm"]) for r in records], total

    def norm(self, code: str) -> dict[str, Any] | None:
        records = self._run(NORM_DETAIL, code=code)
        if not records:
            return None
        record = records[0]
        norm = _public(record["norm"])
        norm["superseded_by"] = record["superseded_by"] or ""
        norm["supersedes"] = sorted(record["replaces_codes"])
        norm["runs"] = [run for run in record["runs"] if run]
        return norm

    def task_changes(self, task_id: str) -> dict[str, Any] | None:
        """What one task run changed in the registry, in stream order; None if the
        graph knows no such task."""
        records = self._run(TASK_CHANGES, id=task_id)
        if not records:
            return None
        record = records[0]
        return {
            "task_id": task_id,
            "correlation_id": record["correlation_id"] or "",
            "status": record["status"],
            "changes": [c for c in record["changes"] if c],
        }

    def _run(self, query: str, **params: Any) -> list[neo4j.Record]:
        return run_query(
            self._driver, self._database, self._space.cypher(query), params
        )


def _public(node: dict[str, Any]) -> dict[str, Any]:
    norm = dict(node)
    norm.pop("ordinal", None)
    norm["superseded_by"] = norm.get("superseded_by") or ""
    return norm


__all__ = ["Neo4jNormsGraph", "GraphError"]
