"""``bldr run``: local Redis and Neo4j when none are configured, then the four
processes of the system under honcho, all stopped together on Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from honcho.manager import Manager

from entrypoints import local_services
from entrypoints import settings as settings_module

ROLES = ("api", "worker", "projector", "scheduler")
READY_TIMEOUT_S = 120


class PortInUseError(RuntimeError):
    """The API's port is taken before anything started."""


def run_all(environ: Mapping[str, str]) -> int:
    env = dict(environ)
    data_dir = Path(env.get("BLDR_DATA_DIR", "var")).resolve()
    env["BLDR_DATA_DIR"] = str(data_dir)
    _check_port(settings_module.load(env))
    signal.signal(signal.SIGHUP, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
    with local_backends(env, data_dir) as chosen:
        env.update(chosen)
        if not env.get("BLDR_API_TOKENS"):
            env["BLDR_API_TOKENS"] = "operator:" + settings_module.new_token()
        settings = settings_module.load(env)
        _write_env_file(data_dir / "env", env)
        _announce_when_ready(settings)
        try:
            return _supervise(env)
        finally:
            (data_dir / "env").unlink(missing_ok=True)


def _check_port(settings: settings_module.Settings) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            raise PortInUseError(
                f"port {settings.port} on {settings.host} is in use ({exc.strerror}); "
                "stop what holds it or choose another with BLDR_PORT"
            ) from None


def run_services(environ: Mapping[str, str]) -> int:
    env = dict(environ)
    data_dir = Path(env.get("BLDR_DATA_DIR", "var")).resolve()
    with local_backends(env, data_dir) as chosen:
        for name, value in chosen.items():
            print(f"export {name}={shlex.quote(value)}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            _wait_forever()
    return 0


@contextlib.contextmanager
def local_backends(env: Mapping[str, str], data_dir: Path) -> Iterator[dict[str, str]]:
    """Start Redis and Neo4j unless REDIS_URL / NEO4J_URI point elsewhere."""
    started: list[local_services.RunningService] = []
    chosen: dict[str, str] = {}
    try:
        if not env.get("REDIS_URL"):
            print("starting Redis ...", flush=True)
            redis = local_services.start_redis(data_dir / "redis")
            started.append(redis)
            chosen["REDIS_URL"] = redis.url
        if not env.get("NEO4J_URI"):
            print(
                "starting Neo4j (the first start fetches it with Maven) ...", flush=True
            )
            neo4j = local_services.start_neo4j(
                data_dir / "neo4j", local_services.default_cache_dir()
            )
            started.append(neo4j)
            chosen["NEO4J_URI"] = neo4j.url
        yield chosen
    finally:
        for service in reversed(started):
            service.stop()


def _supervise(env: dict[str, str]) -> int:
    manager = Manager()
    for role in ROLES:
        command = " ".join(
            shlex.quote(p) for p in (sys.executable, "-m", "entrypoints.cli", role)
        )
        manager.add_process(role, command, env=env)
    manager.loop()
    return manager.returncode or 0


def _write_env_file(path: Path, env: Mapping[str, str]) -> None:
    names = ("REDIS_URL", "NEO4J_URI", "BLDR_API_TOKENS", "BLDR_PORT", "BLDR_DATA_DIR")
    lines = [f"export {n}={shlex.quote(env[n])}" for n in names if env.get(n)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


def _announce_when_ready(settings: settings_module.Settings) -> None:
    """Print the addresses once the API answers, from a thread, so that the curl
    line printed works at once."""
    base = f"http://{settings.host}:{settings.port}"

    def wait_then_print() -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if _answers(f"{base}/healthz"):
                _announce(settings, base)
                return
            time.sleep(0.5)
        print(
            f"the API did not answer at {base}/healthz within "
            f"{READY_TIMEOUT_S} s; see the api lines above",
            flush=True,
        )

    threading.Thread(target=wait_then_print, daemon=True).start()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def _announce(settings: settings_module.Settings, base: str) -> None:
    name, token = next(iter(settings.api_tokens.items()))
    print(f"\nBldr Queue is up; dashboard: {base}/", flush=True)
    print(f"API token ({name}): {token}")
    print(f"settings for other terminals: source {settings.data_dir / 'env'}")
    print("submit a norms update with:")
    print(
        f"curl -sS -X POST -H 'Authorization: Bearer {token}' "
        f"{base}/api/v1/commands/norms-update\n",
        flush=True,
    )


def _wait_forever() -> None:
    threading.Event().wait()
