"""What the dashboard tests drive: Debian's Chromium through Playwright, the real
processes of the system, and a catalogue server whose answers the test releases.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.e2e.processes import REPO, SystemProcess, api_ready, wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = REPO / "tests" / "artifacts"
VIEWER_ZONE = "Asia/Yekaterinburg"


@contextlib.contextmanager
def chromium(user_data_dir: Path) -> Iterator:
    """A headless Chromium with a fresh profile, seen from a viewer at UTC+5."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 900},
            locale="en-GB",
            timezone_id=VIEWER_ZONE,
        )
        try:
            yield context
        finally:
            context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


class RunningSystem:
    """The api, worker and projector processes, each restartable on its own."""

    def __init__(self, env: dict[str, str], log_dir: Path, port: int, workers: int = 1):
        self.env = env
        self.log_dir = log_dir
        self.base = f"http://127.0.0.1:{port}"
        self.processes: list[SystemProcess] = []
        self.roles = ["api", "projector"] + ["worker"] * workers
        self._starts = 0

    def start(self) -> None:
        for role in self.roles:
            self._start(role)
        wait_for(lambda: api_ready(self.base), 60, "the API to answer /healthz")

    def stop_role(self, role: str) -> None:
        for process in self._running(role):
            process.stop()

    def start_role(self, role: str) -> None:
        self._start(role)
        if role == "api":
            wait_for(lambda: api_ready(self.base), 60, "the restarted API to answer")

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.role} ({p.log_path.parent.name}) ---\n" f"{p.log()[-3000:]}"
            for p in self.processes
        )

    def _start(self, role: str) -> None:
        self._starts += 1
        log_dir = self.log_dir / f"{self._starts:02d}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.processes.append(SystemProcess(role, self.env, log_dir))

    def _running(self, role: str) -> list[SystemProcess]:
        return [
            p for p in self.processes if p.role == role and p.process.poll() is None
        ]


class _GatedHandler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.split("?")[0].endswith(".csv"):
            if not self.server.gate.acquire(timeout=self.server.patience_s):
                self.send_error(503, "the test never released this catalogue")
                return
        super().do_GET()

    def log_message(self, format, *args) -> None:
        pass


class GatedCatalogues:
    """Serves a folder over HTTP; each catalogue (CSV) answer waits until the test
    releases one, so a norms update moves from source to source on cue."""

    def __init__(self, folder: Path, patience_s: float = 60):
        handler = functools.partial(_GatedHandler, directory=str(folder))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.gate = threading.Semaphore(0)
        self._server.patience_s = patience_s
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def urls(self, name: str, count: int) -> list[str]:
        """``count`` distinct URLs of the catalogue ``name``."""
        return [f"{self.base}/{name}?part={n}" for n in range(1, count + 1)]

    def release(self, count: int = 1) -> None:
        self._server.gate.release(count)

    def __enter__(self) -> GatedCatalogues:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release(1000)
        self._server.shutdown()
        self._server.server_close()
