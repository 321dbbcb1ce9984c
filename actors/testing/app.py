"""An app booted for tests: its node runs in a background event loop, tests stay synchronous.

`BootedApp` is what the pytest fixture `actors_app` yields, and works without pytest too:

    with BootedApp("myapp") as app:
        assert app.exec("myapp:double", 21) == 42
        box = app.mailbox()
        pid = app.spawn("myapp:echo", str(box.pid))
        app.send(pid, "ping", {"n": 1})
        assert box.receive("pong").payload == {"n": 1}

The embedded Temporal server of an app's `temporal.client` entries runs in memory
(`ephemeral`), as under `actors test`.
"""

from __future__ import annotations

import itertools
import queue
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import attrs
from anyio.from_thread import BlockingPortal, start_blocking_portal
from temporalio.client import Client

from actors.commands.exec import _default_host as default_host
from actors.commands.testing import Outcome, run_test, select_tests
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from actors.messages import Message
from actors.pid import PID
from actors.python_host import ProcessContext, PythonHost
from actors.registry import Entry
from actors.runtime import AppRuntime

T = TypeVar("T")

PYTHON_HOST = "testing:python"
"""The host of the Python processes a test owns (its mailboxes)."""


class AppFailedToBoot(RuntimeError):
    """The app has load errors, or a host or client could not start."""


@attrs.frozen
class TemporalEnv:
    """The Temporal server tests run against: its address and a connected client."""

    address: str
    client: Client | None
    namespace: str = "default"


class Mailbox:
    """A Python process owned by the test: other processes send to `pid`, the test reads
    what arrived with `receive`."""

    def __init__(self, app: BootedApp, pid: PID, arrivals: queue.Queue[Message]) -> None:
        self.app = app
        self.pid = pid
        self._arrivals = arrivals

    def receive(self, topic: str | None = None, timeout: float = 5.0) -> Message:
        """The next message (on `topic`, when given; others before it are dropped)."""
        while True:
            try:
                message = self._arrivals.get(timeout=timeout)
            except queue.Empty:
                wanted = f" on topic {topic!r}" if topic else ""
                raise TimeoutError(f"no message{wanted} for {self.pid} in {timeout:g}s") from None
            if topic is None or message.topic == topic:
                return message

    def send(self, dest: str | PID, topic: str, payload: Any = None) -> None:
        """Send from this mailbox's PID, so the receiver can reply to it."""
        self.app.call(self.app.runtime.node.send, self.pid, dest, topic, payload)


class BootedApp:
    def __init__(
        self,
        app_dir: str | Path,
        *,
        overrides: list[str] | None = None,
        temporal_address: str | None = "embedded",
    ) -> None:
        settings: dict[str, Any] = {"command_mode": True, "ephemeral": True}
        if temporal_address:
            settings["temporal_address"] = temporal_address
        self.app_dir = Path(app_dir)
        self.runtime = AppRuntime.load(self.app_dir, overrides=overrides, settings=settings)
        if self.runtime.errors:
            problems = "; ".join(str(e) for e in self.runtime.errors)
            raise AppFailedToBoot(f"{self.app_dir}: {problems}")
        self.runtime.node.shutdown_grace = 1.0
        self.runtime.node.add_host(PythonHost(PYTHON_HOST))
        self._portal_cm: Any = None
        self._portal: BlockingPortal | None = None
        self._node_cm: Any = None
        self._names = itertools.count(1)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> BootedApp:
        self._portal_cm = start_blocking_portal("asyncio")
        portal: BlockingPortal = self._portal_cm.__enter__()
        self._portal = portal
        try:
            self._node_cm = portal.wrap_async_context_manager(self.runtime.node)
            self._node_cm.__enter__()
            portal.call(self.runtime.start)
        except BaseException as exc:
            self.stop()
            raise AppFailedToBoot(f"{self.app_dir}: {exc}") from exc
        return self

    def stop(self) -> None:
        try:
            if self._node_cm is not None:
                self._node_cm.__exit__(None, None, None)
        finally:
            self._node_cm = None
            if self._portal_cm is not None:
                self._portal_cm.__exit__(None, None, None)
            self._portal_cm = self._portal = None

    def __enter__(self) -> BootedApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `fn(*args)` on the app's event loop and return its result."""
        assert self._portal is not None, "the app is not started"
        return self._portal.call(fn, *args)

    # -- talking to processes ---------------------------------------------------------------

    def entry(self, entry_id: str) -> Entry:
        entry = self.runtime.app.registry.get(entry_id)
        if entry is None:
            raise KeyError(f"no entry {entry_id!r} in {self.app_dir}")
        return entry

    def spawn(self, entry_id: str, *args: Any, host: str | None = None) -> PID:
        """Start a process (or workflow) entry on its default host, or on `host`."""
        entry = self.entry(entry_id)
        host_name = host or default_host(self.runtime, entry)
        return self.call(self.runtime.node.spawn, host_name, SpawnRequest(entry_id, args))

    def exec(
        self, entry_id: str, *args: Any, host: str | None = None, timeout: float = 30.0
    ) -> Any:
        """Spawn an entry, wait for its end and return its result; its error is raised as
        `ActorError`."""
        entry = self.entry(entry_id)
        host_name = host or default_host(self.runtime, entry)
        return self.call(self._exec, host_name, entry_id, args, timeout)

    async def _exec(
        self, host_name: str, entry_id: str, args: tuple[Any, ...], timeout: float
    ) -> Any:
        node = self.runtime.node
        pid = await node.spawn(host_name, SpawnRequest(entry_id, args))
        with anyio.fail_after(timeout):
            event = await node.host(host_name).wait_exit(pid)
        if event.error is not None:
            raise ActorError(event.error)
        return event.value

    def send(self, dest: str | PID, topic: str, payload: Any = None) -> None:
        """Send with no sender (as from outside the runtime)."""
        self.call(self.runtime.node.send, None, dest, topic, payload)

    def mailbox(self) -> Mailbox:
        """A fresh Python process whose messages the test can `receive`."""
        arrivals: queue.Queue[Message] = queue.Queue()

        async def behaviour(ctx: ProcessContext) -> None:
            inbox = ctx.inbox()
            while True:
                arrivals.put(await inbox.receive())

        request = SpawnRequest(behaviour, ())
        pid = self.call(self.runtime.node.spawn, PYTHON_HOST, request)
        return Mailbox(self, pid, arrivals)

    # -- Lua test entries -------------------------------------------------------------------

    def test_entries(self, patterns: list[str] | None = None) -> dict[str, list[Entry]]:
        """The app's `meta.type: test` entries by suite, in run order."""
        return select_tests(self.runtime, patterns or [])

    def run_test(self, entry: Entry, timeout: float = 30.0) -> Outcome:
        return self.call(run_test, self.runtime, entry, timeout)

    # -- Temporal ---------------------------------------------------------------------------

    @property
    def temporal(self) -> TemporalEnv | None:
        """The app's Temporal client (the first one), once booted; None without one."""
        for host in self.runtime.node.hosts.values():
            connection = getattr(host, "connection", None)
            if connection is not None:
                settings = connection.settings
                return TemporalEnv(settings.address, connection.client, settings.namespace)
        return None


def lua_error_location(error: Error) -> str | None:
    """`file.lua:LINE` of the innermost frame of the app's own code in a Lua error."""
    for text in (error.message, error.stack or ""):
        for match in re.finditer(r"([\w./\\-]+\.lua):(\d+):", text):
            return f"{match.group(1)}:{match.group(2)}"
    return None
