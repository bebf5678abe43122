"""Local Redis and Neo4j start on free ports, serve, stop cleanly, keep their data."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest
import redis

from entrypoints.local_services import (
    NEO4J_VERSION,
    LocalServiceError,
    RunningService,
    default_cache_dir,
    neo4j_classpath,
    start_neo4j,
    start_redis,
)


@pytest.fixture
def started() -> Iterator[list[RunningService]]:
    """Services a test started; any still running when it ends are stopped."""
    services: list[RunningService] = []
    yield services
    for service in services:
        service.stop()


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port that a listening socket of the test holds."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.fixture
def own_cache(tmp_path) -> Iterator[Path]:
    """An empty cache dir, removed afterwards: its jars take about 120 MB."""
    cache = tmp_path / "cache"
    yield cache
    shutil.rmtree(cache, ignore_errors=True)


def is_gone(process_id: int) -> bool:
    try:
        os.kill(process_id, 0)
    except ProcessLookupError:
        return True
    return False


def read_value(url: str, key: str) -> bytes | None:
    client = redis.Redis.from_url(url)
    try:
        return client.get(key)
    finally:
        client.close()


def write_value(url: str, key: str, value: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.set(key, value)
    finally:
        client.close()


def run_cypher(url: str, query: str) -> list[neo4j.Record]:
    with neo4j.GraphDatabase.driver(url, auth=None) as driver:
        return driver.execute_query(query).records


def test_redis_stores_a_value_and_its_process_ends_on_stop(tmp_path, started):
    redis_service = start_redis(tmp_path / "redis")
    started.append(redis_service)

    write_value(redis_service.url, "norm", "SP 48.13330")
    value = read_value(redis_service.url, "norm")
    redis_service.stop()

    assert value == b"SP 48.13330"
    assert redis_service.url.startswith("redis://127.0.0.1:")
    assert redis_service.process.returncode == 0
    assert is_gone(redis_service.process.pid)


def test_persistent_redis_keeps_values_across_a_restart(tmp_path, started):
    first = start_redis(tmp_path / "redis")
    started.append(first)
    write_value(first.url, "task", "queued")
    first.stop()

    second = start_redis(tmp_path / "redis")
    started.append(second)

    assert read_value(second.url, "task") == b"queued"
    assert (tmp_path / "redis" / "appendonlydir").is_dir()


def test_non_persistent_redis_leaves_no_data_files(tmp_path, started):
    redis_service = start_redis(tmp_path / "redis", persistent=False)
    started.append(redis_service)

    write_value(redis_service.url, "task", "queued")
    redis_service.stop()

    left = sorted(path.name for path in (tmp_path / "redis").iterdir())
    assert left == ["redis.log"]


def test_redis_on_a_taken_port_fails_with_its_log(tmp_path, taken_port):
    with pytest.raises(LocalServiceError) as failure:
        start_redis(tmp_path / "redis", taken_port)

    message = str(failure.value)
    assert message.startswith(f"redis on redis://127.0.0.1:{taken_port}/0 exited")
    assert "Address already in use" in message


def test_neo4j_answers_cypher_and_keeps_a_node_across_a_restart(tmp_path, started):
    data_dir = tmp_path / "neo4j"
    first = start_neo4j(data_dir, default_cache_dir())
    started.append(first)
    answer = run_cypher(first.url, "RETURN 1 AS one")
    run_cypher(first.url, "CREATE (:Norm {code: 'SP 70.13330'})")

    first.stop()
    second = start_neo4j(data_dir, default_cache_dir())
    started.append(second)

    codes = run_cypher(second.url, "MATCH (n:Norm) RETURN n.code AS code")
    assert answer[0]["one"] == 1
    assert [record["code"] for record in codes] == ["SP 70.13330"]
    assert "neo4j stopped" in first.log_path.read_text()
    assert is_gone(first.process.pid)


def test_neo4j_on_a_taken_port_fails_with_its_log(tmp_path, taken_port):
    with pytest.raises(LocalServiceError) as failure:
        start_neo4j(tmp_path / "neo4j", default_cache_dir(), taken_port)

    message = str(failure.value)
    assert message.startswith(f"neo4j on bolt://127.0.0.1:{taken_port} exited")
    assert "Address already in use" in message


def test_neo4j_heap_size_is_checked_before_anything_starts(tmp_path):
    with pytest.raises(ValueError, match="heap"):
        start_neo4j(tmp_path / "neo4j", tmp_path / "cache", heap="plenty")

    assert not (tmp_path / "cache").exists()


def test_an_interrupted_jar_download_is_done_again(own_cache):
    home = own_cache / f"neo4j-{NEO4J_VERSION}"
    (home / "lib").mkdir(parents=True)
    (home / "lib" / "neo4j-kernel-half-written.jar").write_bytes(b"PK")
    (home / ".scratch-of-a-killed-download").mkdir()

    lib = neo4j_classpath(own_cache)

    assert lib == home / "lib"
    assert (lib / f"neo4j-{NEO4J_VERSION}.jar").is_file()
    assert (lib / f"neo4j-bolt-{NEO4J_VERSION}.jar").is_file()
    assert not (lib / "neo4j-kernel-half-written.jar").exists()
    assert (home / "lib.complete").is_file()
    assert not (home / ".scratch-of-a-killed-download").exists()
