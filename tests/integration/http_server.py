"""A real HTTP server on a free loopback port serving a folder, able to misbehave."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    failure: str | None = None
    failures_left: int = 0

    def do_GET(self) -> None:
        server = self.server
        if server.failure and server.failures_left != 0:
            server.failures_left -= 1
            if server.failure == "status500":
                self.send_error(500, "catalogue service is down")
            else:
                self.connection.close()
            return
        super().do_GET()

    def log_message(self, format, *args) -> None:
        pass


@contextlib.contextmanager
def serve_folder(
    folder: Path, failure: str | None = None, failures: int = -1
) -> Iterator[str]:
    """Serve ``folder``; ``failure`` ("status500" or "drop") answers the first
    ``failures`` requests that way (every request when negative)."""
    handler = functools.partial(_Handler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.failure = failure
    server.failures_left = failures
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
