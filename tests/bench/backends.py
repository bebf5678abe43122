"""Redis and Neo4j for a benchmark: the ones in REDIS_URL / NEO4J_URI, or local ones
started for the run and stopped after it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from entrypoints import local_services


@contextlib.contextmanager
def bench_backends(tmp: Path) -> Iterator[tuple[str, str]]:
    if os.environ.get("REDIS_URL") and os.environ.get("NEO4J_URI"):
        yield os.environ["REDIS_URL"], os.environ["NEO4J_URI"]
        return
    redis = local_services.start_redis(tmp / "redis", persistent=True)
    try:
        graph = local_services.start_neo4j(
            tmp / "neo4j", local_services.default_cache_dir()
        )
    except BaseException:
        redis.stop()
        raise
    try:
        yield redis.url, graph.url
    finally:
        graph.stop()
        redis.stop()
