"""Label spaces of the Neo4j projections, their checkpoints, and whole-space reads.

The live projector writes ``:Task``, ``:Norm`` and ``:Checkpoint`` nodes. A replay
that is to be compared with them writes the same graph under other labels
(``:ReplayTask``, ``:ReplayNorm``, ``:ReplayCheckpoint``), so that one Neo4j
Community database holds both. Every Cypher text of the graph adapters is written
for the live space and rewritten for another one by ``LabelSpace.cypher``.

``(:Checkpoint {name})`` holds ``position`` (the stream id of the newest entry the
space holds) and ``ordinal`` (the same as a number). It only moves forward, so a
batch written twice leaves it where it was.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import neo4j

from adapters.neo4j_client import GraphError, run_query

LABELS = ("Task", "Norm", "Checkpoint")
CHECKPOINT = "projector"
WIPE_BATCH = 5000

SCHEMA = (
    "CREATE CONSTRAINT checkpoint_name IF NOT EXISTS "
    "FOR (c:Checkpoint) REQUIRE c.name IS UNIQUE",
)

SAVE_CHECKPOINT = """
MERGE (c:Checkpoint {name: $name})
WITH c WHERE coalesce(c.ordinal, -1) < $ordinal
SET c.position = $position, c.ordinal = $ordinal
"""

# A map projection rather than c.position: before the first checkpoint is saved the
# property key does not exist, and naming it would draw a server notification.
LOAD_CHECKPOINT = """
MATCH (c:Checkpoint {name: $name})
RETURN c {.*} AS checkpoint
"""

# Relationships go first, in batches of their own: a node with many of them would
# otherwise make one DETACH DELETE batch outgrow the transaction memory limit.
WIPE_RELATIONSHIPS = """
MATCH (n:{label})-[r]-()
WITH DISTINCT r LIMIT $batch
DELETE r
RETURN count(*) AS deleted
"""

WIPE_NODES = """
MATCH (n:{label})
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
"""

NODES = {
    "Task": "MATCH (n:Task) RETURN n.id AS key, properties(n) AS props",
    "Norm": "MATCH (n:Norm) RETURN n.code AS key, properties(n) AS props",
}

RELATIONSHIPS = """
MATCH (a)-[r]->(b) WHERE (a:Task OR a:Norm) AND (b:Task OR b:Norm)
RETURN type(r) AS type, coalesce(a.id, a.code) AS start, coalesce(b.id, b.code) AS end,
       properties(r) AS props
"""


@dataclass(frozen=True)
class LabelSpace:
    """Where a projection lives: its labels carry ``prefix`` (empty for the live
    space), and its schema names carry the same prefix in lower case."""

    prefix: str = ""

    def cypher(self, query: str) -> str:
        """``query``, written for the live space, rewritten for this one."""
        return _rewrite(query, self.prefix) if self.prefix else query


LIVE = LabelSpace()
REPLAY = LabelSpace("Replay")


@functools.lru_cache(maxsize=256)
def _rewrite(query: str, prefix: str) -> str:
    labels = "|".join(LABELS)
    query = re.sub(rf":({labels})\b", rf":{prefix}\1", query)
    return re.sub(r"\b(CONSTRAINT|INDEX) (\w+)", rf"\1 {prefix.lower()}_\2", query)


@dataclass(frozen=True)
class GraphSnapshot:
    """Every node (by label and key) and relationship of one space, with properties."""

    nodes: dict[tuple[str, str], dict[str, Any]]
    relationships: dict[tuple[str, str, str, str], dict[str, Any]]


class Neo4jProjectionSpace:
    """Checkpoint, wipe and full read of one label space."""

    def __init__(
        self, driver: neo4j.Driver, database: str = "neo4j", space: LabelSpace = LIVE
    ):
        self._driver = driver
        self._database = database
        self.space = space

    def ensure_schema(self) -> None:
        for statement in SCHEMA:
            self._run(statement)

    def save_checkpoint(self, position: str, ordinal: int) -> None:
        """Move the checkpoint to ``position`` unless it is already there or past."""
        self._run(SAVE_CHECKPOINT, name=CHECKPOINT, position=position, ordinal=ordinal)

    def checkpoint(self) -> str:
        """The stream position the space holds; "0-0" before anything was written."""
        records = self._run(LOAD_CHECKPOINT, name=CHECKPOINT)
        return records[0]["checkpoint"].get("position", "0-0") if records else "0-0"

    def wipe(self) -> int:
        """Delete every relationship and node of the space, in batches; the number
        of nodes deleted."""
        for label in LABELS:
            self._delete_all(WIPE_RELATIONSHIPS.format(label=label))
        return sum(self._delete_all(WIPE_NODES.format(label=label)) for label in LABELS)

    def _delete_all(self, query: str) -> int:
        total = 0
        while deleted := self._run(query, batch=WIPE_BATCH)[0]["deleted"]:
            total += deleted
        return total

    def snapshot(self) -> GraphSnapshot:
        nodes = {
            (label, record["key"]): dict(record["props"])
            for label, query in NODES.items()
            for record in self._run(query)
        }
        relationships = dict(self._relationships())
        return GraphSnapshot(nodes, relationships)

    def _relationships(self) -> Iterator[tuple[tuple[str, str, str, str], dict]]:
        for record in self._run(RELATIONSHIPS):
            props = dict(record["props"])
            # Several CHANGED links join one task to one norm; kind and version
            # tell them apart.
            detail = f"{props.get('kind', '')}@{props.get('version', '')}"
            key = (record["type"], record["start"], record["end"], detail)
            yield key, props

    def _run(self, query: str, **params: Any) -> list[neo4j.Record]:
        return run_query(self._driver, self._database, self.space.cypher(query), params)


__all__ = ["LIVE", "REPLAY", "LabelSpace", "Neo4jProjectionSpace", "GraphError"]
