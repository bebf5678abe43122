"""The test harness: one Redis and one Neo4j per session, on free loopback ports.

Integration and end-to-end tests ask for ``settings`` (or ``container``); each such
test starts from an empty Redis database and an empty graph.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from entrypoints import local_services
from entrypoints.bootstrap import Container
from entrypoints.settings import DEMO_DIR, Settings, parse_policies, parse_tokens

REPO = Path(__file__).resolve().parents[1]
TOKEN = "test-operator-token"
TEST_POLICIES = '{"update_norms": {"max_attempts": 3, "backoff_s": 0.2}}'


@pytest.fixture(scope="session")
def backends(tmp_path_factory):
    base = tmp_path_factory.mktemp("backends")
    redis = local_services.start_redis(base / "redis", persistent=False)
    try:
        neo4j = local_services.start_neo4j(
            base / "neo4j", local_services.default_cache_dir()
        )
    except BaseException:
        redis.stop()
        raise
    yield {"redis_url": redis.url, "neo4j_uri": neo4j.url}
    neo4j.stop()
    redis.stop()


@pytest.fixture
def catalogues(tmp_path) -> Path:
    """A catalogue root holding copies of the sample catalogues and documents."""
    root = tmp_path / "catalogues"
    shutil.copytree(DEMO_DIR, root)
    return root


@pytest.fixture
def settings(backends, tmp_path, catalogues) -> Settings:
    return Settings(
        redis_url=backends["redis_url"],
        neo4j_uri=backends["neo4j_uri"],
        api_tokens=parse_tokens(f"operator:{TOKEN}"),
        data_dir=tmp_path / "var",
        default_sources=(str(catalogues / "catalogue-2026.csv"),),
        catalogue_roots=(str(catalogues),),
        port=local_services.free_port(),
        task_policies=parse_policies(TEST_POLICIES),
        lease_ttl_s=2.0,
        broker_heartbeat_ms=4000,
        broker_maintenance_chance=1_000_000,
        fetch_private_hosts=True,
    )


@pytest.fixture
def container(settings):
    c = Container(settings)
    c.redis.flushdb()
    c.neo4j_driver.execute_query("MATCH (n) DETACH DELETE n")
    yield c
    c.close()


@pytest.fixture
def process_env(settings) -> dict[str, str]:
    """The environment for a real process of the system under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLDR_", "NEO4J_"))}
    env.update(
        {
            "REDIS_URL": settings.redis_url,
            "NEO4J_URI": settings.neo4j_uri,
            "BLDR_API_TOKENS": f"operator:{TOKEN}",
            "BLDR_DATA_DIR": str(settings.data_dir),
            "BLDR_PORT": str(settings.port),
            "BLDR_DEFAULT_SOURCES": ",".join(settings.default_sources),
            "BLDR_CATALOGUE_ROOTS": os.pathsep.join(settings.catalogue_roots),
            "BLDR_WORKER_THREADS": "2",
            "BLDR_TASK_POLICIES": TEST_POLICIES,
            "BLDR_FETCH_PRIVATE_HOSTS": "yes",
            "BLDR_LEASE_TTL": str(settings.lease_ttl_s),
            "BLDR_BROKER_HEARTBEAT_MS": str(settings.broker_heartbeat_ms),
            "BLDR_BROKER_MAINTENANCE_CHANCE": str(settings.broker_maintenance_chance),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env
