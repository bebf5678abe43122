"""Replay speed: events/s of ``bldr replay`` over a generated stream, next to the
speed of plain batched Cypher writes of the same final nodes and relationships on
the same Neo4j (the ceiling a replay could reach), and their ratio.

    python -m tests.bench.replay --events 100000 --batch 2000

Starts its own Redis and Neo4j on free loopback ports (or uses REDIS_URL /
NEO4J_URI when set, under its own key prefix and labels, removed afterwards).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import tempfile
import time
import uuid
from importlib import metadata
from pathlib import Path

from adapters import event_codec
from adapters.neo4j_projection_space import LabelSpace, Neo4jProjectionSpace
from adapters.redis_audit import RedisAuditLog
from domain import events as ev
from entrypoints.bootstrap import Container
from entrypoints.replay import Replay
from entrypoints.settings import Settings
from tests.bench.backends import bench_backends

EVENTS_PER_TASK = 50
NORM_EVENTS_PER_TASK = 44
PROGRESS_EVENTS = 3
BENCH = LabelSpace("Bench")
CEILING = LabelSpace("Ceiling")


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bldr-bench-replay-") as tmp:
        with bench_backends(Path(tmp)) as (redis_url, neo4j_uri):
            settings = Settings(
                redis_url=redis_url,
                neo4j_uri=neo4j_uri,
                prefix=f"bench-replay-{uuid.uuid4().hex[:8]}",
                data_dir=Path(tmp) / "var",
            )
            container = Container(settings)
            try:
                result = run(container, args)
                print(json.dumps({**result, "setup": describe(args)}, indent=2))
            finally:
                clean_up(container)
                container.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--batch",
        type=int,
        default=2000,
        help="entries per replay batch and rows per ceiling write",
    )
    parser.add_argument(
        "--norms", type=int, default=10_000, help="distinct norm codes the tasks touch"
    )
    return parser.parse_args()


def run(container: Container, args: argparse.Namespace) -> dict:
    written = generate(container, args.events, args.norms)
    decode_s = time_decoding(container)
    replayed = Replay(container, "cli:bench", progress=False, batch=args.batch)
    result = replayed.rebuild(space=BENCH)
    snapshot = Neo4jProjectionSpace(container.neo4j_driver, space=BENCH).snapshot()
    ceiling_s = write_ceiling(container, snapshot, args.batch)
    replay_rate = result.events / result.elapsed_s
    ceiling_rate = result.events / ceiling_s
    return {
        "events": result.events,
        "generated": written,
        "nodes": len(snapshot.nodes),
        "relationships": len(snapshot.relationships),
        "read_and_decode_events_per_s": round(result.events / decode_s),
        "replay_s": round(result.elapsed_s, 2),
        "replay_events_per_s": round(replay_rate),
        "ceiling_s": round(ceiling_s, 2),
        "ceiling_events_per_s": round(ceiling_rate),
        "replay_to_ceiling": round(replay_rate / ceiling_rate, 3),
    }


def generate(container: Container, events: int, norms: int) -> int:
    """Finished norms-update tasks of ``EVENTS_PER_TASK`` events each, touching
    norm codes round robin, some of them superseded."""
    store, written, code = container.event_store, 0, 0
    for n in range(events // EVENTS_PER_TASK):
        task_id = f"bench-{n:06d}"
        store.submit(
            ev.TaskSubmitted(
                task_id=task_id,
                task_type="update_norms",
                actor="token:bench",
                correlation_id=task_id,
            ),
            0,
        )
        facts, code = task_facts(task_id, code, norms)
        store.append(task_id, facts, 1)
        written += 1 + len(facts)
    return written


def task_facts(task_id: str, code: int, norms: int) -> tuple[list[ev.Event], int]:
    facts: list[ev.Event] = [ev.TaskStarted(task_id=task_id, worker="bench")]
    for k in range(NORM_EVENTS_PER_TASK):
        facts.append(norm_event(task_id, code % norms, k))
        code += 1
        if k % (NORM_EVENTS_PER_TASK // PROGRESS_EVENTS) == 0 and k:
            percent = 100.0 * k / NORM_EVENTS_PER_TASK
            facts.append(
                ev.TaskProgressed(
                    task_id=task_id, percent=percent, done=k, total=NORM_EVENTS_PER_TASK
                )
            )
    facts.append(ev.TaskSucceeded(task_id=task_id, report={"added": 1}))
    stamped = [
        dataclasses.replace(e, actor="worker:bench", correlation_id=task_id)
        for e in facts
    ]
    return stamped, code


def norm_event(task_id: str, number: int, k: int) -> ev.Event:
    code = f"СП {number}.13330"
    if k % 11 == 10:
        return ev.NormSuperseded(
            task_id=task_id, code=code, superseded_by=f"СП {number}.13330.2026"
        )
    return ev.NormRegistered(
        task_id=task_id,
        code=code,
        title=f"Свод правил {number}",
        kind="SP",
        edition=2020 + k % 7,
        status="active",
    )


def time_decoding(container: Container) -> float:
    """Seconds to read and decode the whole stream, without writing anything."""
    log = RedisAuditLog(container.redis, container.settings.prefix)
    started = time.monotonic()
    for position, fields in log.entries(count=2000):
        event_codec.decode(position, fields)
    return time.monotonic() - started


CEILING_SCHEMA = (
    "CREATE INDEX ceiling_task IF NOT EXISTS FOR (t:CeilingTask) ON (t.id)",
    "CREATE INDEX ceiling_norm IF NOT EXISTS FOR (n:CeilingNorm) ON (n.code)",
)
CREATE_NODES = "UNWIND $rows AS row CREATE (n:Ceiling{label}) SET n = row"
CREATE_LINKS = """
UNWIND $rows AS row
MATCH (a:Ceiling{start} {{{start_key}: row.start}})
MATCH (b:CeilingNorm {{code: row.end}})
CREATE (a)-[r:{type}]->(b) SET r = row.props
"""


def write_ceiling(container: Container, snapshot, batch: int) -> float:
    """Seconds to write the snapshot's nodes and relationships with plain batched
    CREATEs, the fastest way Cypher can put the same graph in place."""
    driver = container.neo4j_driver
    for statement in CEILING_SCHEMA:
        driver.execute_query(statement)
    started = time.monotonic()
    for label in ("Task", "Norm"):
        rows = [props for (kind, _), props in snapshot.nodes.items() if kind == label]
        _in_batches(driver, CREATE_NODES.format(label=label), rows, batch)
    for rel_type in ("CHANGED", "SUPERSEDED_BY"):
        start, key = ("Task", "id") if rel_type == "CHANGED" else ("Norm", "code")
        rows = [
            {"start": s, "end": e, "props": props}
            for (kind, s, e, _), props in snapshot.relationships.items()
            if kind == rel_type
        ]
        query = CREATE_LINKS.format(start=start, start_key=key, type=rel_type)
        _in_batches(driver, query, rows, batch)
    return time.monotonic() - started


def _in_batches(driver, query: str, rows: list[dict], batch: int) -> None:
    for first in range(0, len(rows), batch):
        driver.execute_query(query, rows=rows[first : first + batch])


def clean_up(container: Container) -> None:
    """Remove what the run wrote, in case the backends are shared."""
    driver = container.neo4j_driver
    for space in (BENCH, CEILING):
        Neo4jProjectionSpace(driver, space=space).wipe()
    for kind, listing in (
        ("CONSTRAINT", "SHOW CONSTRAINTS YIELD name"),
        ("INDEX", "SHOW INDEXES YIELD name"),
    ):
        records, _, _ = driver.execute_query(listing)
        for record in records:
            if record["name"].startswith(("bench_", "ceiling_")):
                driver.execute_query(f"DROP {kind} {record['name']} IF EXISTS")
    keys = list(container.redis.scan_iter(f"{container.settings.prefix}:*"))
    for first in range(0, len(keys), 500):
        container.redis.delete(*keys[first : first + 500])


def describe(args: argparse.Namespace) -> dict:
    return {
        "batch": args.batch,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "neo4j_driver": metadata.version("neo4j"),
        "redis_py": metadata.version("redis"),
        "backends": "given" if os.environ.get("NEO4J_URI") else "started locally",
    }


if __name__ == "__main__":
    main()
