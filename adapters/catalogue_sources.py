"""Which catalogue sources may be read: files and folders under the catalogue roots,
and http(s) URLs. Checked when a command is accepted, before any task exists."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from domain.errors import InvalidCommandError

MAX_SOURCES = 100


class InvalidSourceError(InvalidCommandError):
    """A source that does not exist, lies outside the roots, or is not a URL we fetch."""


def check_sources(sources: Iterable[str], roots: Iterable[str]) -> tuple[str, ...]:
    """The sources as the job will read them (absolute paths, URLs unchanged)."""
    checked = tuple(check_source(s, tuple(roots)) for s in sources)
    if len(checked) > MAX_SOURCES:
        raise InvalidSourceError(f"at most {MAX_SOURCES} sources per command")
    return checked


def check_source(source: str, roots: tuple[str, ...]) -> str:
    if not source or not source.strip():
        raise InvalidSourceError("a source is empty")
    if "\x00" in source:
        raise InvalidSourceError("a source contains a NUL character")
    if "://" in source:
        return _check_url(source)
    return _check_path(source, roots)


def _check_url(source: str) -> str:
    parts = urlsplit(source)
    if parts.scheme not in ("http", "https"):
        raise InvalidSourceError(
            f"source {source!r}: only http and https URLs are fetched"
        )
    if not parts.hostname:
        raise InvalidSourceError(f"source {source!r}: the URL has no host")
    return source


def _check_path(source: str, roots: tuple[str, ...]) -> str:
    path = Path(source).expanduser()
    if not path.is_absolute() and roots:
        path = Path(roots[0]) / path
    resolved = path.resolve()
    if not any(_inside(resolved, Path(root).resolve()) for root in roots):
        raise InvalidSourceError(
            f"source {source!r} is outside the catalogue roots "
            "(BLDR_CATALOGUE_ROOTS)"
        )
    if not resolved.exists():
        raise InvalidSourceError(f"source {source!r} does not exist")
    if not (resolved.is_file() or resolved.is_dir()):
        raise InvalidSourceError(f"source {source!r} is not a file or a folder")
    return str(resolved)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
