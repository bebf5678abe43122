"""The ``bldr replay`` command and the ``bldr audit`` group.

Every command exits 0 when all is well and 1 when it found a problem (a replay
check that differs, a broken chain) or could not do what was asked.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from adapters import jsonl_archive
from adapters.event_chain import ChainReport
from entrypoints import audit, history, operations, views
from entrypoints.bootstrap import Container
from entrypoints.replay import Replay, ReplayError, ReplayResult

ISO_TIME = click.DateTime(
    formats=[
        "%Y-%m-%dT%H:%M:%S.%f%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d",
    ]
)
ARCHIVE_DIR = click.Path(file_okay=False, path_type=Path)


def register(cli: click.Group, container: Callable[[], Container]) -> None:
    """Add ``replay`` and ``audit`` to ``cli``; ``container`` builds the Container."""

    @cli.command()
    @click.option(
        "--from",
        "after",
        metavar="POSITION",
        help="Re-apply only entries after this stream position.",
    )
    @click.option(
        "--check",
        is_flag=True,
        help="Rebuild aside and print how the live graph differs.",
    )
    @click.option(
        "--archive",
        "archive_dir",
        type=ARCHIVE_DIR,
        help="Folder of archives to replay before the stream.",
    )
    def replay(after: str | None, check: bool, archive_dir: Path | None) -> None:
        """Rebuild the Neo4j views from the event stream."""
        archives = jsonl_archive.archives(archive_dir) if archive_dir else []
        runner = Replay(container(), operations.cli_actor(), archives)
        try:
            result = runner.check() if check else runner.rebuild(after)
        except ReplayError as exc:
            raise click.ClickException(str(exc)) from None
        sys.exit(_report_replay(result))

    @cli.group()
    def audit() -> None:
        """Check, read, export and archive the event stream."""

    _add_audit_commands(audit, container)


def _report_replay(result: ReplayResult) -> int:
    rate = result.events / result.elapsed_s if result.elapsed_s else 0.0
    for line in result.differences:
        click.echo(line)
    click.echo(
        f"{result.mode}: {result.events} events up to {result.to_position} "
        f"in {result.elapsed_s:.1f} s ({rate:.0f} events/s), "
        f"{len(result.differences)} differences",
        err=True,
    )
    return 1 if result.differences else 0


def _add_audit_commands(group: click.Group, container) -> None:
    @group.command()
    @click.option(
        "--archive",
        "archive_dir",
        type=ARCHIVE_DIR,
        help="Also check the archives in this folder, oldest first.",
    )
    def verify(archive_dir: Path | None) -> None:
        """Check the tamper chain of the whole stream."""
        archives = jsonl_archive.archives(archive_dir) if archive_dir else []
        sys.exit(_report_chain(audit.verify(container(), archives)))

    @group.command()
    @click.argument("task_id")
    def task(task_id: str) -> None:
        """Print one task's history as a timeline."""
        recorded = container().event_store.history(task_id)
        if not recorded:
            raise click.ClickException(f"no task with id {task_id}")
        for line in history.timeline(recorded):
            click.echo(line)

    _add_export_command(group, container)
    _add_archive_command(group, container)
    _add_queue_command(group, container)


def _add_export_command(group: click.Group, container) -> None:
    @group.command()
    @click.option("--since", type=ISO_TIME, help="Earliest time (UTC if no zone).")
    @click.option("--until", type=ISO_TIME, help="Latest time (UTC if no zone).")
    @click.option(
        "--out",
        type=click.File("w", encoding="utf-8"),
        default="-",
        help="File to write; standard output by default.",
    )
    def export(since: datetime | None, until: datetime | None, out) -> None:
        """Write the stream's entries as JSON Lines, for archival."""
        written = audit.export(container(), out, _utc(since), _utc(until))
        click.echo(
            f"exported {written.events} events, sha256 {written.sha256}", err=True
        )


def _add_archive_command(group: click.Group, container) -> None:
    @group.command()
    @click.option(
        "--before",
        type=ISO_TIME,
        required=True,
        help="Archive what was recorded before this time.",
    )
    @click.option(
        "--to",
        "folder",
        type=ARCHIVE_DIR,
        help="Archive folder; <data dir>/archive by default.",
    )
    def archive(before: datetime, folder: Path | None) -> None:
        """Export the oldest finished history to a file, then trim it."""
        c = container()
        folder = folder or c.settings.data_dir / "archive"
        try:
            done = audit.archive(c, _utc(before), folder, operations.cli_actor())
        except (audit.ArchiveRefusedError, jsonl_archive.ArchiveError) as exc:
            raise click.ClickException(str(exc)) from None
        if done is None:
            click.echo("nothing to archive yet")
            return
        click.echo(
            f"archived {done.written.events} events up to "
            f"{done.written.last} into {done.path}"
        )


def _add_queue_command(group: click.Group, container) -> None:
    @group.command()
    @click.option(
        "--as-of",
        "as_of",
        type=ISO_TIME,
        required=True,
        help="The moment to show (UTC if no zone).",
    )
    def queue(as_of: datetime) -> None:
        """Print the queue as it stood at a moment, folded from the stream."""
        tasks = history.queue_as_of(container(), _utc(as_of))
        for t in tasks:
            shown = views.task(t)
            click.echo(
                f"{t.task_id}  {shown['status']:<10} {t.task_type:<14} "
                f"{shown['submitted_at']}  {t.submitted_by}"
            )
        click.echo(f"{len(tasks)} tasks as of {_utc(as_of).isoformat()}", err=True)


def _report_chain(report: ChainReport) -> int:
    broken = report.broken
    if broken is None:
        click.echo(
            f"intact: {report.checked} events checked, newest "
            f"{report.last_position}"
        )
        return 0
    where = broken.position or f"after {broken.after}"
    click.echo(
        f"tampered: entry {broken.kind} at {where}: {broken.reason}; "
        f"{report.checked} events before it are intact (last good "
        f"{broken.after})"
    )
    return 1


def _utc(moment: datetime | None) -> datetime | None:
    return history.utc(moment) if moment is not None else None
