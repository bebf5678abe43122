"""The ``bldr replay`` command.

It exits 0 when all is well and 1 when a check found differences or the replay
could not run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from adapters import jsonl_archive
from entrypoints import operations
from entrypoints.bootstrap import Container
from entrypoints.replay import Replay, ReplayError, ReplayResult

ARCHIVE_DIR = click.Path(file_okay=False, path_type=Path)


def register(cli: click.Group, container: Callable[[], Container]) -> None:
    """Add ``replay`` to ``cli``; ``container`` builds the Container."""

    @cli.command()
    @click.option("--from", "after", metavar="POSITION",
                  help="Re-apply only entries after this stream position.")
    @click.option("--check", is_flag=True,
                  help="Rebuild aside and print how the live graph differs.")
    @click.option("--archive", "archive_dir", type=ARCHIVE_DIR,
                  help="Folder of archives to replay before the stream.")
    def replay(after: str | None, check: bool, archive_dir: Path | None) -> None:
        """Rebuild the Neo4j views from the event stream."""
        archives = jsonl_archive.archives(archive_dir) if archive_dir else []
        runner = Replay(container(), operations.cli_actor(), archives)
        try:
            result = runner.check() if check else runner.rebuild(after)
        except ReplayError as exc:
            raise click.ClickException(str(exc)) from None
        sys.exit(_report_replay(result))


def _report_replay(result: ReplayResult) -> int:
    rate = result.events / result.elapsed_s if result.elapsed_s else 0.0
    for line in result.differences:
        click.echo(line)
    click.echo(f"{result.mode}: {result.events} events up to {result.to_position} "
               f"in {result.elapsed_s:.1f} s ({rate:.0f} events/s), "
               f"{len(result.differences)} differences", err=True)
    return 1 if result.differences else 0
