"""Which catalogue sources may be read: files and folders under the catalogue roots,
and http(s) URLs. Checked when a command is accepted, and again by the worker right
before reading, since a file can be swapped for a link between the two."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from domain.errors import InvalidCommandError

MAX_SOURCES = 100
MAX_SOURCE_LENGTH = 2000


class InvalidSourceError(InvalidCommandError):
    """A source that does not exist, lies outside the roots, or is not a URL we fetch."""


@dataclass(frozen=True)
class SourcePolicy:
    """Where sources may come from. ``private_hosts`` allows URLs whose host is a
    loopback, private or link-local address (off by default: the API must not be
    a way to read internal services)."""

    roots: tuple[str, ...]
    private_hosts: bool = False


def check_sources(sources: Iterable[str], policy: SourcePolicy) -> tuple[str, ...]:
    """The sources as the job will read them (absolute paths, URLs unchanged)."""
    sources = list(sources)
    if len(sources) > MAX_SOURCES:
        raise InvalidSourceError(f"at most {MAX_SOURCES} sources per command")
    return tuple(check_source(s, policy) for s in sources)


def check_source(source: str, policy: SourcePolicy) -> str:
    if not source or not source.strip():
        raise InvalidSourceError("a source is empty")
    if len(source) > MAX_SOURCE_LENGTH:
        raise InvalidSourceError(f"a source is over {MAX_SOURCE_LENGTH} characters")
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidSourceError("a source is not valid Unicode text") from None
    if not source.isprintable():
        raise InvalidSourceError("a source holds control characters")
    if "://" in source:
        return _check_url(source, policy)
    return _check_path(source, policy.roots)


def _check_url(source: str, policy: SourcePolicy) -> str:
    try:
        parts = urlsplit(source)
        port = parts.port
    except ValueError as exc:
        raise InvalidSourceError(
            f"source {source!r} is not a valid URL: {exc}"
        ) from None
    if parts.scheme not in ("http", "https"):
        raise InvalidSourceError(
            f"source {source!r}: only http and https URLs are fetched"
        )
    if not parts.hostname:
        raise InvalidSourceError(f"source {source!r}: the URL has no host")
    if parts.username or parts.password:
        raise InvalidSourceError(
            "a source URL carries credentials; they would be recorded and shown "
            "with the task, so give a URL without them"
        )
    if not policy.private_hosts:
        _refuse_private(parts.hostname, port)
    return source


def _refuse_private(host: str, port: int | None) -> None:
    try:
        infos = socket.getaddrinfo(host, port or 80, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidSourceError(
            f"the host {host!r} cannot be resolved: {exc}"
        ) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise InvalidSourceError(
                f"the host {host!r} is an internal address ({address}); fetching from "
                "internal addresses is off (BLDR_FETCH_PRIVATE_HOSTS)"
            )


def _check_path(source: str, roots: tuple[str, ...]) -> str:
    try:
        resolved = _resolve(source, roots)
        inside = any(_inside(resolved, Path(root).resolve()) for root in roots)
        exists = resolved.exists()
        kind_ok = resolved.is_file() or resolved.is_dir()
    except (OSError, RuntimeError, ValueError) as exc:
        raise InvalidSourceError(f"source {source!r} cannot be used: {exc}") from None
    if not inside:
        raise InvalidSourceError(
            f"source {source!r} is outside the catalogue roots (BLDR_CATALOGUE_ROOTS)"
        )
    if not exists:
        raise InvalidSourceError(f"source {source!r} does not exist")
    if not kind_ok:
        raise InvalidSourceError(f"source {source!r} is not a file or a folder")
    return str(resolved)


def _resolve(source: str, roots: tuple[str, ...]) -> Path:
    """The real path of a source; a relative one is taken from the first root."""
    path = Path(source)
    if source.startswith("~"):
        raise ValueError("a path starting with '~' is not expanded")
    if not path.is_absolute() and roots:
        path = Path(roots[0]) / path
    return path.resolve()


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
