"""Settings: the one place that reads the environment, once, into a frozen object.

Every variable, its default and its meaning is listed in the README. Values missing
from the environment are looked up in ``$BLDR_DATA_DIR/env`` (written by ``bldr run``)
before falling back to the default, so commands in another terminal reach the
services that ``bldr run`` started.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from domain.policies import TaskPolicy

PACKAGE_DIR = Path(__file__).resolve().parent
DEMO_DIR = PACKAGE_DIR / "demo"
DEFAULT_POLICIES = {
    "update_norms": TaskPolicy(concurrency=1),
    "parse_batch": TaskPolicy(),
    "train_rag": TaskPolicy(concurrency=1),
}
WORKER_CLASSES = {"eventlet": "eventlet", "gthread": "threading", "gevent": "gevent"}


class SettingsError(ValueError):
    """A configuration value that cannot be used, named with the variable."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    redis_url: str = "redis://127.0.0.1:6379/0"
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    api_tokens: Mapping[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("var")
    api_worker_class: str = "eventlet"
    schedule_cron: str = "0 3 * * *"
    time_zone: str = "Europe/Moscow"
    default_sources: tuple[str, ...] = (str(DEMO_DIR / "catalogue-2026.csv"),)
    catalogue_roots: tuple[str, ...] = (str(DEMO_DIR),)
    idempotency_ttl_s: int = 7 * 24 * 3600
    prefix: str = "bldr"
    max_body_bytes: int = 64 * 1024
    worker_threads: int = 4
    fetch_timeout_s: float = 30.0
    task_policies: Mapping[str, TaskPolicy] = field(
        default_factory=lambda: dict(DEFAULT_POLICIES)
    )
    fetch_private_hosts: bool = False
    lease_ttl_s: float = 10.0
    broker_heartbeat_ms: int = 60_000
    broker_maintenance_chance: int = 1_000
    worker_prefetch: int = 0
    log_level: str = "INFO"

    @property
    def socketio_async_mode(self) -> str:
        return WORKER_CLASSES[self.api_worker_class]

    def token_names(self) -> dict[str, str]:
        """Token -> its name, the identity recorded for what it causes."""
        return {token: name for name, token in self.api_tokens.items()}


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment (and ``$BLDR_DATA_DIR/env``) over the defaults."""
    env = dict(os.environ if environ is None else environ)
    data_dir = Path(env.get("BLDR_DATA_DIR", "var"))
    values = {**read_env_file(data_dir / "env"), **env}
    return _build(values, data_dir)


def _build(values: Mapping[str, str], data_dir: Path) -> Settings:
    get = values.get
    defaults = Settings()
    worker_class = get("BLDR_API_WORKER_CLASS", defaults.api_worker_class)
    if worker_class not in WORKER_CLASSES:
        raise SettingsError(
            f"BLDR_API_WORKER_CLASS={worker_class!r}: use one of {sorted(WORKER_CLASSES)}"
        )
    return Settings(
        redis_url=get("REDIS_URL", defaults.redis_url),
        neo4j_uri=get("NEO4J_URI", defaults.neo4j_uri),
        neo4j_user=get("NEO4J_USER", defaults.neo4j_user),
        neo4j_password=get("NEO4J_PASSWORD", defaults.neo4j_password),
        neo4j_database=get("NEO4J_DATABASE", defaults.neo4j_database),
        api_tokens=parse_tokens(get("BLDR_API_TOKENS", "")),
        host=get("BLDR_HOST", defaults.host),
        port=_int(values, "BLDR_PORT", defaults.port),
        data_dir=data_dir,
        api_worker_class=worker_class,
        schedule_cron=get("BLDR_SCHEDULE", defaults.schedule_cron),
        time_zone=get("BLDR_TIMEZONE", defaults.time_zone),
        default_sources=_split(
            get("BLDR_DEFAULT_SOURCES"), ",", defaults.default_sources
        ),
        catalogue_roots=_split(
            get("BLDR_CATALOGUE_ROOTS"), os.pathsep, defaults.catalogue_roots
        ),
        idempotency_ttl_s=_int(
            values, "BLDR_IDEMPOTENCY_TTL", defaults.idempotency_ttl_s
        ),
        prefix=get("BLDR_PREFIX", defaults.prefix),
        max_body_bytes=_int(values, "BLDR_MAX_BODY_BYTES", defaults.max_body_bytes),
        worker_threads=_int(values, "BLDR_WORKER_THREADS", defaults.worker_threads),
        fetch_timeout_s=_float(values, "BLDR_FETCH_TIMEOUT", defaults.fetch_timeout_s),
        task_policies=parse_policies(get("BLDR_TASK_POLICIES", "")),
        fetch_private_hosts=_flag(values, "BLDR_FETCH_PRIVATE_HOSTS"),
        lease_ttl_s=_float(values, "BLDR_LEASE_TTL", defaults.lease_ttl_s),
        broker_heartbeat_ms=_int(
            values, "BLDR_BROKER_HEARTBEAT_MS", defaults.broker_heartbeat_ms
        ),
        broker_maintenance_chance=_int(
            values, "BLDR_BROKER_MAINTENANCE_CHANCE", defaults.broker_maintenance_chance
        ),
        worker_prefetch=_int(values, "BLDR_WORKER_PREFETCH", defaults.worker_prefetch),
        log_level=get("BLDR_LOG_LEVEL", defaults.log_level).upper(),
    )


def parse_tokens(text: str) -> dict[str, str]:
    """``name:token,name:token`` -> {name: token}; a bare token is named ``operator``."""
    tokens: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, token = item.partition(":")
        if not sep:
            name, token = "operator", item
        if not name or not token:
            raise SettingsError(f"BLDR_API_TOKENS: {item!r} is not name:token")
        tokens[name] = token
    return tokens


def parse_policies(text: str) -> dict[str, TaskPolicy]:
    """``{"update_norms": {"max_attempts": 3}, ...}`` over the default policies."""
    policies = dict(DEFAULT_POLICIES)
    if not text.strip():
        return policies
    try:
        overrides = json.loads(text)
        for task_type, values in overrides.items():
            base = policies.get(task_type, TaskPolicy())
            policies[task_type] = dataclasses.replace(base, **values)
    except (ValueError, TypeError, AttributeError) as exc:
        raise SettingsError(
            f"BLDR_TASK_POLICIES: {exc}; expected a JSON object of task type to "
            f"limits ({', '.join(f.name for f in dataclasses.fields(TaskPolicy))})"
        ) from None
    return policies


def new_token() -> str:
    return secrets.token_urlsafe(24)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a file written by ``bldr run``; empty if there is none."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    pairs = (line.removeprefix("export ").partition("=") for line in lines)
    return {k.strip(): v.strip().strip("'\"") for k, sep, v in pairs if sep}


def _int(values: Mapping[str, str], name: str, default: int) -> int:
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None


def _flag(values: Mapping[str, str], name: str) -> bool:
    raw = (values.get(name) or "").strip().lower()
    if raw in ("", "0", "no", "false", "off"):
        return False
    if raw in ("1", "yes", "true", "on"):
        return True
    raise SettingsError(f"{name}={raw!r}: use yes or no")


def _float(values: Mapping[str, str], name: str, default: float) -> float:
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None


def _split(raw: str | None, sep: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if not raw:
        return default
    return tuple(p.strip() for p in raw.split(sep) if p.strip())
