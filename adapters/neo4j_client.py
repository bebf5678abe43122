"""The one way our adapters run Cypher: driver errors become GraphError."""

from __future__ import annotations

from typing import Any

import neo4j
from neo4j.exceptions import DriverError, Neo4jError


class GraphError(Exception):
    """Neo4j could not be reached or refused a query."""


def run_query(
    driver: neo4j.Driver, database: str, query: str, params: dict[str, Any]
) -> list[neo4j.Record]:
    """Run one auto-retried transaction; the driver retries transient failures, so
    every query given here must be safe to run twice."""
    try:
        records, _, _ = driver.execute_query(query, params, database_=database)
    except (Neo4jError, DriverError, OSError) as exc:
        raise GraphError(f"neo4j: {exc}") from exc
    return records
