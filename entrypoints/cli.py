"""The ``bldr`` command: runs each process of the system, or all of them at once."""

from __future__ import annotations

import os
import sys

import click
import redis

from entrypoints import audit_cli
from adapters.neo4j_client import GraphError
from adapters.redis_event_store import EventStoreError
from entrypoints import settings as settings_module
from entrypoints.bootstrap import Container, configure_logging
from entrypoints.local_services import LocalServiceError
from entrypoints.settings import Settings, SettingsError

GUNICORN_CLASSES = {"eventlet": "eventlet", "gthread": "gthread", "gevent": "gevent"}


def _container() -> Container:
    """The Container of this run: from the environment, or from the Settings a
    caller passed as the click context object (tests do)."""
    context = click.get_current_context()
    given = context.find_object(Settings)
    if given is not None:
        container = Container(given)
        context.call_on_close(container.close)
        return container
    try:
        settings = settings_module.load()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(settings)
    return Container(settings)


@click.group()
def cli() -> None:
    """Bldr Queue: the event-sourced task backbone of the norms back office."""


@cli.command()
def api() -> None:
    """Serve the API and the dashboard with gunicorn (one worker process)."""
    s = settings_module.load()
    argv = gunicorn_argv(s)
    os.execv(sys.executable, [sys.executable, *argv])


def gunicorn_argv(s: Settings) -> list[str]:
    """The gunicorn command line; the worker class comes from one setting."""
    argv = [
        "-m",
        "gunicorn",
        "--workers",
        "1",
        "--bind",
        f"{s.host}:{s.port}",
        "--worker-class",
        GUNICORN_CLASSES[s.api_worker_class],
        "--no-control-socket",
        "--graceful-timeout",
        "5",
        "--log-level",
        s.log_level.lower(),
        "--access-logfile",
        "-",
    ]
    if s.api_worker_class == "gthread":
        argv += ["--threads", "32"]
    return argv + ["entrypoints.api:create_wsgi()"]


@cli.command()
def worker() -> None:
    """Run tasks delivered by Dramatiq until SIGTERM or Ctrl-C."""
    from entrypoints import worker as worker_process

    worker_process.main(_container())


@cli.command()
def projector() -> None:
    """Follow the event stream and keep the Neo4j views and the live feed current."""
    from entrypoints import projector as projector_process

    projector_process.main(_container())


@cli.command()
def scheduler() -> None:
    """Fire the daily norms update on the configured schedule."""
    from entrypoints import scheduler as scheduler_process

    scheduler_process.main(_container())


@cli.command()
def run() -> None:
    """Start Redis and Neo4j when not configured, then every process, supervised."""
    from entrypoints import supervisor

    try:
        code = supervisor.run_all(dict(os.environ))
    except (supervisor.PortInUseError, SettingsError, LocalServiceError) as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(code)


@cli.command()
def services() -> None:
    """Start only the local Redis and Neo4j and keep them until Ctrl-C."""
    from entrypoints import supervisor

    sys.exit(supervisor.run_services(dict(os.environ)))


audit_cli.register(cli, _container)


def main() -> None:
    try:
        cli(prog_name="bldr")
    except (EventStoreError, GraphError, redis.RedisError) as exc:
        click.echo(
            f"Error: cannot reach the system's Redis or Neo4j ({exc}).\n"
            "Is it running? From another folder, `source <its folder>/var/env` first "
            "or set REDIS_URL and NEO4J_URI.",
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
