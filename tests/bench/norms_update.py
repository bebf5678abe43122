"""The norms update on large generated catalogues: rows per second, progress
events, and peak memory against the size of the file and of the registry.

    python -m tests.bench.norms_update --rows 100000

Each size runs in a fresh child process on an empty registry, so that its peak
resident memory is its own. Starts its own Redis (and Neo4j for the projection)
unless REDIS_URL / NEO4J_URI are set.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path

from domain import delivery, services
from domain.commands import UpdateNorms
from entrypoints.bootstrap import Container
from entrypoints.settings import Settings
from entrypoints.worker import worker_context
from tests.bench.backends import bench_backends
from tests.catalogue_factory import write_catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[10_000, 50_000, 100_000]
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bldr-bench-") as tmp:
        with bench_backends(Path(tmp)) as (redis_url, neo4j_uri):
            results = [
                measure_in_child(redis_url, neo4j_uri, Path(tmp), rows)
                for rows in args.rows
            ]
    print(json.dumps(results, indent=2))


def measure_in_child(redis_url: str, neo4j_uri: str, tmp: Path, rows: int) -> dict:
    catalogue = write_catalogue(tmp / f"catalogue-{rows}.csv", rows)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(measure, (redis_url, neo4j_uri, str(catalogue), rows))


def measure(redis_url: str, neo4j_uri: str, catalogue: str, rows: int) -> dict:
    settings = Settings(
        redis_url=redis_url,
        neo4j_uri=neo4j_uri,
        catalogue_roots=(str(Path(catalogue).parent),),
    )
    container = Container(settings)
    container.redis.flushdb()
    baseline = _peak_rss_mb()

    task, _ = services.submit(
        UpdateNorms(actor="bench", sources=(catalogue,)),
        container.event_store,
        container.task_queue,
        60,
    )
    started = time.perf_counter()
    delivery.deliver(worker_context(container, "bench"), task.task_id)
    elapsed = time.perf_counter() - started

    done = services.load(container.event_store, task.task_id)
    peak = _peak_rss_mb()
    progress = [
        r.event
        for r in container.event_store.history(task.task_id)
        if r.event.type_name == "TaskProgressed"
    ]
    gaps = [b.occurred_at - a.occurred_at for a, b in zip(progress, progress[1:])]
    return {
        "rows": rows,
        "file_mb": round(os.path.getsize(catalogue) / 2**20, 1),
        "status": done.status.value,
        "added": done.report.get("added"),
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
        "progress_events": len(progress),
        "longest_gap_between_progress_s": (
            round(max(g.total_seconds() for g in gaps), 2) if gaps else None
        ),
        "peak_rss_mb": round(peak, 1),
        "rss_growth_mb": round(peak - baseline, 1),
        "registry_entries": len(container.event_store.known_norms()),
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
