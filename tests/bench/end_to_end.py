"""End-to-end throughput and latency: N norms updates of a one-row catalogue,
submitted over HTTP by concurrent clients, timed from submission until Neo4j shows
each one finished.

    python -m tests.bench.end_to_end --tasks 500 --clients 8

Starts its own Redis, Neo4j, API, worker and projector on free loopback ports
(or uses REDIS_URL / NEO4J_URI when set) and stops them afterwards.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import neo4j
import requests

from entrypoints import local_services
from tests.bench.backends import bench_backends
from tests.catalogue_factory import write_catalogue

REPO = Path(__file__).resolve().parents[2]
TOKEN = "bench-token"
PACKAGES = (
    "dramatiq",
    "redis",
    "neo4j",
    "falcon",
    "gunicorn",
    "eventlet",
    "python-socketio",
)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bldr-bench-") as tmp:
        with bench_backends(Path(tmp)) as (redis_url, neo4j_uri):
            env = system_env(Path(tmp), redis_url, neo4j_uri, args)
            with system(env, args.workers, Path(tmp)) as base:
                catalogue = write_catalogue(Path(tmp) / "catalogues" / "one.csv", 1)
                result = measure(base, neo4j_uri, catalogue, args)
    print(json.dumps({**result, "setup": describe(args)}, indent=2))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker process"
    )
    parser.add_argument(
        "--parallel-updates",
        action="store_true",
        help="lift the one-at-a-time limit of norms updates, to "
        "measure the pipeline rather than the registry lock",
    )
    parser.add_argument("--timeout", type=float, default=600)
    return parser.parse_args()


def system_env(tmp: Path, redis_url: str, neo4j_uri: str, args) -> dict[str, str]:
    (tmp / "catalogues").mkdir()
    policies = {"update_norms": {"concurrency": 0 if args.parallel_updates else 1}}
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "NEO4J_URI": neo4j_uri,
        "BLDR_API_TOKENS": f"bench:{TOKEN}",
        "BLDR_DATA_DIR": str(tmp / "var"),
        "BLDR_PORT": str(local_services.free_port()),
        "BLDR_CATALOGUE_ROOTS": str(tmp / "catalogues"),
        "BLDR_WORKER_THREADS": str(args.threads),
        "BLDR_TASK_POLICIES": json.dumps(policies),
        "BLDR_LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def system(env: dict[str, str], workers: int, tmp: Path):
    roles = ["api", "projector"] + ["worker"] * workers
    logs = [open(tmp / f"{role}-{n}.log", "wb") for n, role in enumerate(roles)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", role],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for role, log in zip(roles, logs)
    ]
    base = f"http://127.0.0.1:{env['BLDR_PORT']}"
    try:
        wait(lambda: _healthy(base), 90)
        yield base
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def measure(base: str, neo4j_uri: str, catalogue: Path, args) -> dict:
    driver = neo4j.GraphDatabase.driver(neo4j_uri)
    submitted: dict[str, float] = {}
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
        for task_id, at in pool.map(
            lambda _: submit(base, catalogue), range(args.tasks)
        ):
            submitted[task_id] = at
    submit_s = time.perf_counter() - started
    finished = watch(driver, set(submitted), args.timeout)
    driver.close()
    return summarise(submitted, finished, started, submit_s)


_session = requests.Session()


def submit(base: str, catalogue: Path) -> tuple[str, float]:
    at = time.perf_counter()
    response = _session.post(
        f"{base}/api/v1/commands/norms-update",
        json={"sources": [str(catalogue)]},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["task_id"], at


def watch(driver: neo4j.Driver, ids: set[str], timeout: float) -> dict[str, float]:
    """When each task was first seen finished in Neo4j (polled every 20 ms)."""
    seen: dict[str, float] = {}
    deadline = time.perf_counter() + timeout
    while len(seen) < len(ids) and time.perf_counter() < deadline:
        records, _, _ = driver.execute_query(
            "MATCH (t:Task) WHERE t.status IN ['succeeded', 'failed'] RETURN t.id AS id"
        )
        now = time.perf_counter()
        for record in records:
            if record["id"] in ids:
                seen.setdefault(record["id"], now)
        time.sleep(0.02)
    return seen


def summarise(submitted, finished, started, submit_s) -> dict:
    latencies = sorted(finished[t] - submitted[t] for t in finished)
    wall = max(finished.values()) - started if finished else float("nan")

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 3)

    return {
        "tasks": len(submitted),
        "finished": len(finished),
        "submit_per_s": round(len(submitted) / submit_s, 1),
        "end_to_end_tasks_per_s": round(len(finished) / wall, 1),
        "latency_s": {
            "p50": pct(0.5),
            "p90": pct(0.9),
            "p99": pct(0.99),
            "max": round(latencies[-1], 3),
            "mean": round(statistics.fmean(latencies), 3),
        },
    }


def describe(args) -> dict:
    versions = {name: metadata.version(name) for name in PACKAGES}
    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True
    ).stdout.split()[2:3]
    return {
        "clients": args.clients,
        "workers": args.workers,
        "threads": args.threads,
        "parallel_updates": args.parallel_updates,
        "python": platform.python_version(),
        "packages": versions,
        "redis_server": redis_version,
        "neo4j": "5.26.30 embedded",
        "machine": {
            "cpus": os.cpu_count(),
            "processor": _cpu_model(),
            "system": platform.platform(),
        },
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout} s waiting for the system")
        time.sleep(0.2)


if __name__ == "__main__":
    main()
