"""Redis and Neo4j as local child processes, for the test harness and ``bldr run``.

No Docker: each service listens on 127.0.0.1 only and keeps its files and its log in
the data dir it is given (``redis.log``; for Neo4j ``logs/launcher.log`` beside Neo4j's
own logs). Neo4j Community runs embedded in ``neo4j/Launcher.java`` on jars that Maven
fetches once into a cache dir. A service that exits during its start or is not ready
in time raises ``LocalServiceError`` with the tail of its log. The only environment
variables read here are ``BLDR_CACHE_DIR`` and ``JAVA_HOME``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import DEVNULL, PIPE, STDOUT

import neo4j
import neo4j.exceptions
import redis
import redis.exceptions
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
NEO4J_VERSION = "5.26.30"
REDIS_READY_TIMEOUT = 30.0
NEO4J_READY_TIMEOUT = 120.0
MAVEN_TIMEOUT = 900.0
JAVAC_TIMEOUT = 120.0
LOG_TAIL_LINES = 25

_NEO4J_FILES = Path(__file__).with_name("neo4j")
_LIB_MARKER = "lib.complete"
_HEAP = re.compile(r"(\d+)([kmg])", re.IGNORECASE)
_UNIT_BYTES = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
# The heap starts small and grows to -Xmx only if needed: this keeps the resident size
# of a mostly idle development database near 300 MB instead of the full heap.
_INITIAL_HEAP_BYTES = 128 << 20
# The module flags that Neo4j's own launcher adds. Without the opens the page cache
# falls back to slower buffers and the transaction log cannot advise the kernel on file
# use; native access only silences JNA's warnings on Java 22 and newer.
_JVM_MODULE_FLAGS = (
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)
# Class files for Java 17, the oldest runtime Neo4j 5.26 supports, so that a newer
# $JAVA_HOME at compile time cannot lock out Java 17 later.
_JAVAC_FLAGS = ("--release", "17", "-proc:none", "-nowarn")

# Whether a starting service is ready: it gets the service and where its log began.
_Probe = Callable[["RunningService", int], bool]


class LocalServiceError(Exception):
    """A local service could not be fetched, started or reached."""


@dataclass
class RunningService:
    """A service started by this module; ``stop`` ends it and reaps the process."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, timeout: float = 20) -> None:
        """Send SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; always reap."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "%s did not stop within %.0f s, killing it", self.name, timeout
                )
                self.process.kill()
                self.process.wait()
        logger.info("%s stopped (exit code %s)", self.name, self.process.returncode)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    Another process may take it before the caller binds it; the start functions then
    fail with a LocalServiceError rather than talk to the wrong server.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def default_cache_dir() -> Path:
    """The folder for fetched jars and the compiled launcher.

    $BLDR_CACHE_DIR when set, else ~/.cache/bldr.
    """
    configured = os.environ.get("BLDR_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "bldr"


def start_redis(
    data_dir: Path, port: int | None = None, *, persistent: bool = True
) -> RunningService:
    """Start redis-server on 127.0.0.1 with its files in ``data_dir``.

    Persistent means an append-only file synced every second; RDB snapshots are off
    either way, so a non-persistent Redis writes nothing to disk.
    """
    port = port or free_port()
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [_program("redis-server"), *_redis_options(data_dir, port, persistent)]
    url = f"redis://{HOST}:{port}/0"
    # One try per poll: redis-py's default retries would stretch each poll to seconds.
    retry = Retry(NoBackoff(), 0)

    with redis.Redis(HOST, port, socket_timeout=1, retry=retry) as client:

        def answers(service: RunningService, log_start: int) -> bool:
            return _redis_answers(client, service.process.pid)

        log_path = data_dir / "redis.log"
        return _start("redis", url, argv, log_path, answers, REDIS_READY_TIMEOUT)


def neo4j_classpath(cache_dir: Path) -> Path:
    """Return ``cache_dir/neo4j-VERSION/lib`` after making sure it holds every jar.

    Maven fills the folder on first use; a marker written after it succeeds tells a
    complete folder from one left behind by an interrupted download, which is redone,
    as it is when the shipped pom.xml changes.
    """
    home = _neo4j_home(cache_dir)
    lib = home / "lib"
    if _lib_is_complete(home, lib):
        return lib
    with _locked(home):
        if not _lib_is_complete(home, lib):
            _fetch_neo4j_jars(home, lib)
    return lib


def start_neo4j(
    data_dir: Path, cache_dir: Path, port: int | None = None, *, heap: str = "512m"
) -> RunningService:
    """Start Neo4j Community with Bolt on 127.0.0.1, no auth, its home in ``data_dir``.

    ``heap`` is the JVM's maximum heap, such as "512m" or "1g". The first call per cache
    dir downloads the jars (about 120 MB) and compiles the launcher.
    """
    java_options = _jvm_options(heap)
    lib = neo4j_classpath(cache_dir)
    classes = _launcher_classes(_neo4j_home(cache_dir), lib)
    port = port or free_port()
    data_dir = data_dir.resolve()

    classpath = os.pathsep.join([str(classes), str(lib / "*")])
    argv = [_java_program("java"), *java_options, "-cp", classpath, "Launcher"]
    argv += [str(data_dir), str(port)]
    url = f"bolt://{HOST}:{port}"
    log_path = data_dir / "logs" / "launcher.log"

    with neo4j.GraphDatabase.driver(url, auth=None, connection_timeout=2.0) as driver:

        def answers(service: RunningService, log_start: int) -> bool:
            return _neo4j_answers(driver, service.log_path, log_start, url)

        return _start("neo4j", url, argv, log_path, answers, NEO4J_READY_TIMEOUT)


def _start(
    name: str, url: str, argv: list[str], log_path: Path, ready: _Probe, timeout: float
) -> RunningService:
    """Spawn ``argv`` and wait until ``ready`` says the service is up."""
    started = time.monotonic()
    log_start, process = _spawn(argv, log_path)
    service = RunningService(name, url, process, log_path)
    try:
        _await_ready(service, log_start, ready, timeout)
    except BaseException:
        service.stop(timeout=10)
        raise
    logger.info("%s ready on %s in %.1f s", name, url, time.monotonic() - started)
    return service


def _spawn(argv: list[str], log_path: Path) -> tuple[int, subprocess.Popen[bytes]]:
    """Run ``argv`` with its output appended to ``log_path``; return where it starts."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_start = log_path.stat().st_size if log_path.exists() else 0
    with log_path.open("ab") as log:
        # The owner's process group: a Ctrl-C reaches the service too, so it shuts
        # down cleanly even when the owner dies before it can call stop().
        # A session of its own: Ctrl-C in the terminal reaches the supervisor, which
        # stops the system's processes first and the backing services last.
        process = subprocess.Popen(
            argv, stdin=DEVNULL, stdout=log, stderr=STDOUT, start_new_session=True
        )
    return log_start, process


def _await_ready(
    service: RunningService, log_start: int, ready: _Probe, timeout: float
) -> None:
    """Poll ``ready`` until true; fail when the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        code = service.process.poll()
        if code is not None:
            raise _start_failed(service, log_start, f"exited with code {code}")
        if ready(service, log_start):
            return
        if time.monotonic() > deadline:
            what = f"was not ready after {timeout:.0f} s"
            raise _start_failed(service, log_start, what)
        time.sleep(0.1)


def _start_failed(
    service: RunningService, log_start: int, what: str
) -> LocalServiceError:
    # Only what this run wrote: earlier runs append to the same log.
    lines = _read_log(service.log_path, log_start).splitlines()[-LOG_TAIL_LINES:]
    tail = "\n".join(lines) if lines else "(the log is empty)"
    return LocalServiceError(
        f"{service.name} on {service.url} {what}; "
        f"last lines of {service.log_path}:\n{tail}"
    )


def _read_log(log_path: Path, start: int) -> str:
    try:
        with log_path.open("rb") as log:
            log.seek(start)
            return log.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _redis_options(data_dir: Path, port: int, persistent: bool) -> list[str]:
    options = ["--bind", HOST, "--port", str(port), "--dir", str(data_dir)]
    options += ["--daemonize", "no", "--logfile", "", "--save", ""]
    if persistent:
        return [*options, "--appendonly", "yes", "--appendfsync", "everysec"]
    return [*options, "--appendonly", "no"]


def _redis_answers(client: redis.Redis, pid: int) -> bool:
    """Whether our redis-server answers, and not another one that holds the port."""
    try:
        return bool(client.ping()) and client.info("server")["process_id"] == pid
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return False


def _neo4j_answers(
    driver: neo4j.Driver, log_path: Path, log_start: int, url: str
) -> bool:
    """Whether the launcher reported ready and a Bolt connection can be opened.

    The launcher's line comes first so that a foreign server on the port is never
    mistaken for ours: the launcher prints it only after it bound the port itself.
    """
    if f"neo4j ready on {url}" not in _read_log(log_path, log_start):
        return False
    try:
        driver.verify_connectivity()
    except (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError, OSError):
        return False
    return True


def _jvm_options(heap: str) -> list[str]:
    """JVM flags for the launcher; rejects a malformed ``heap`` before anything runs."""
    match = _HEAP.fullmatch(heap)
    if match is None:
        raise ValueError(f"heap must look like 512m or 1g, not {heap!r}")
    size = int(match.group(1)) * _UNIT_BYTES[match.group(2).lower()]
    initial = heap if size <= _INITIAL_HEAP_BYTES else f"{_INITIAL_HEAP_BYTES >> 20}m"
    # The serial collector: no collector threads competing for two cores, and a smaller
    # footprint than G1, whose pause-time goals matter little to a development database.
    gc_and_logging = ["-XX:+UseSerialGC", "-Dlog4j2.disable.jmx=true"]
    return [f"-Xms{initial}", f"-Xmx{heap}", *gc_and_logging, *_JVM_MODULE_FLAGS]


def _neo4j_home(cache_dir: Path) -> Path:
    home = cache_dir.expanduser().resolve() / f"neo4j-{NEO4J_VERSION}"
    home.mkdir(parents=True, exist_ok=True)
    return home


def _lib_is_complete(home: Path, lib: Path) -> bool:
    """Whether Maven finished filling ``lib`` from the pom.xml shipped now."""
    marker = home / _LIB_MARKER
    if not marker.is_file() or not (lib / f"neo4j-{NEO4J_VERSION}.jar").is_file():
        return False
    return marker.read_text() == _lib_marker_text()


def _lib_marker_text() -> str:
    pom = (_NEO4J_FILES / "pom.xml").read_bytes()
    return f"neo4j {NEO4J_VERSION}, pom.xml {hashlib.sha256(pom).hexdigest()[:12]}\n"


def _fetch_neo4j_jars(home: Path, lib: Path) -> None:
    """Run Maven with the shipped pom.xml to copy the Neo4j jars into ``lib``."""
    started = time.monotonic()
    pom = home / "pom.xml"
    shutil.copyfile(_NEO4J_FILES / "pom.xml", pom)
    maven = [_program("mvn"), "-q", "-B", "-Dstyle.color=never", "-f", str(pom)]
    maven += ["dependency:copy-dependencies", f"-Dneo4j.version={NEO4J_VERSION}"]
    logger.info("fetching Neo4j %s jars with Maven into %s", NEO4J_VERSION, lib)

    def copy_jars(into: Path) -> None:
        argv = [*maven, f"-DoutputDirectory={into}"]
        _run_tool(argv, f"Maven could not fetch Neo4j {NEO4J_VERSION}", MAVEN_TIMEOUT)

    _build_folder(lib, copy_jars)
    (home / _LIB_MARKER).write_text(_lib_marker_text())
    jars = len(list(lib.glob("*.jar")))
    logger.info("fetched %d jars in %.0f s", jars, time.monotonic() - started)


def _launcher_classes(home: Path, lib: Path) -> Path:
    """Compile Launcher.java once per version of it and the flags; return the folder.

    Compiled classes start about three seconds faster than java's source-file mode,
    which compiles the launcher again at every start.
    """
    source = _NEO4J_FILES / "Launcher.java"
    recipe = source.read_bytes() + " ".join(_JAVAC_FLAGS).encode()
    digest = hashlib.sha256(recipe).hexdigest()[:12]
    classes = home / f"launcher-{digest}"
    if (classes / "Launcher.class").is_file():
        return classes
    with _locked(home):
        if not (classes / "Launcher.class").is_file():
            _compile(source, lib, classes)
    return classes


def _compile(source: Path, lib: Path, classes: Path) -> None:
    javac = [_java_program("javac"), *_JAVAC_FLAGS, "-cp", str(lib / "*")]

    def compile_into(into: Path) -> None:
        argv = [*javac, "-d", str(into), str(source)]
        _run_tool(argv, "javac could not compile the Neo4j launcher", JAVAC_TIMEOUT)

    _build_folder(classes, compile_into)


def _build_folder(target: Path, build: Callable[[Path], None]) -> None:
    """Let ``build`` fill a scratch folder, then put that in the place of ``target``.

    A failed or killed build never leaves a partial ``target``, and a JVM running from
    the old files keeps those it has open. Callers hold the lock of the parent folder,
    so scratch folders found there are leftovers of killed builds.
    """
    for leftover in target.parent.glob(".scratch-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix=".scratch-", dir=target.parent))
    retired = scratch.with_name(f"{scratch.name}-retired")
    try:
        build(scratch)
        if target.exists():
            target.rename(retired)
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)


def _run_tool(argv: list[str], failure: str, timeout: float) -> None:
    """Run a build tool; if it fails, raise LocalServiceError with its output."""
    try:
        done = subprocess.run(argv, stdout=PIPE, stderr=STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        message = f"{failure}: no result after {timeout:.0f} s"
        raise LocalServiceError(message) from error
    if done.returncode != 0:
        output = done.stdout.decode("utf-8", errors="replace").splitlines()
        tail = "\n".join(output[-LOG_TAIL_LINES:])
        raise LocalServiceError(f"{failure} (exit code {done.returncode}):\n{tail}")


def _program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise LocalServiceError(f"{name} is needed for local services but not on PATH")
    return path


def _java_program(name: str) -> str:
    """``java`` or ``javac`` from $JAVA_HOME when it is set, else from the PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if not java_home:
        return _program(name)
    path = Path(java_home) / "bin" / name
    if not os.access(path, os.X_OK):
        raise LocalServiceError(f"JAVA_HOME is set, but {path} is not a program")
    return str(path)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` across processes, such as parallel tests.

    Not reentrant: a second lock of the same folder by one process waits forever.
    """
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock
