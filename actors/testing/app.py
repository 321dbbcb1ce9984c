"""An app booted for tests: its node runs in a background event loop, tests stay synchronous.

`BootedApp` is what the pytest fixture `actors_app` yields, and works without pytest too:

    with BootedApp("myapp") as app:
        assert app.run("myapp:double", 21) == 42
        box = app.mailbox()
        pid = app.spawn("myapp:echo", str(box.pid))
        app.send(pid, "ping", {"n": 1})
        assert box.receive("pong").payload == {"n": 1}

It is `actors.App` with its event loop in a background thread; the embedded Temporal
server of an app's `temporal.client` entries runs in memory (`ephemeral`), as under
`actors test`.
"""

from __future__ import annotations

import functools
import queue
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
from anyio.from_thread import BlockingPortal, start_blocking_portal
from temporalio.client import Client

from actors.app import App
from actors.commands.testing import Outcome, run_test, select_tests
from actors.errors import Error
from actors.messages import Message
from actors.pid import PID
from actors.python_host import ProcessContext
from actors.registry import Entry
from actors.runtime import AppRuntime

T = TypeVar("T")


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
    """A synchronous handle on an `actors.App` whose event loop runs in a background thread.

    `overrides` and `temporal_address` are `actors.App`'s; a Temporal server the app embeds
    keeps its state in memory."""

    def __init__(
        self,
        app_dir: str | Path,
        *,
        overrides: list[str] | None = None,
        temporal_address: str | None = None,
    ) -> None:
        self.app_dir = Path(app_dir)
        self.app = App(
            self.app_dir,
            overrides=overrides or [],
            temporal_address=temporal_address,
            ephemeral=True,
        )
        self._portal_cm: Any = None
        self._portal: BlockingPortal | None = None
        self._app_cm: Any = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> BootedApp:
        self._portal_cm = start_blocking_portal("asyncio")
        self._portal = self._portal_cm.__enter__()
        try:
            self._app_cm = self._portal.wrap_async_context_manager(self.app)
            self._app_cm.__enter__()
        except BaseException as exc:
            self._app_cm = None
            self.stop()
            raise AppFailedToBoot(f"{self.app_dir}: {exc}") from exc
        self.runtime.node.shutdown_grace = 1.0
        return self

    def stop(self) -> None:
        try:
            if self._app_cm is not None:
                self._app_cm.__exit__(None, None, None)
        finally:
            self._app_cm = None
            if self._portal_cm is not None:
                self._portal_cm.__exit__(None, None, None)
            self._portal_cm = self._portal = None

    def __enter__(self) -> BootedApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def runtime(self) -> AppRuntime:
        return self.app._live()

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run `await fn(*args, **kwargs)` on the app's event loop and return its result."""
        assert self._portal is not None, "the app is not started"
        return self._portal.call(functools.partial(fn, *args, **kwargs))

    # -- talking to processes (`actors.App`'s operations, synchronously) ----------------------

    def entry(self, entry_id: str) -> Entry:
        return self.app.entry(entry_id)

    def spawn(self, target: Any, *args: Any, **kwargs: Any) -> PID:
        """`App.spawn`: an entry id or a Python behaviour; returns its PID."""
        return self.call(self.app.spawn, target, *args, **kwargs)

    def run(self, target: Any, *args: Any, timeout: float | None = 30.0, **kwargs: Any) -> Any:
        """`App.run`: spawn, wait, return the result (a failure raises `ActorError`)."""
        return self.call(self.app.run, target, *args, timeout=timeout, **kwargs)

    def send(self, dest: str | PID, topic: str, payload: Any = None) -> None:
        """Send with no sender (as from outside the runtime); `Mailbox.send` to be replied to."""
        self.call(self.app.send, dest, topic, payload)

    def mailbox(self) -> Mailbox:
        """A fresh Python process whose messages the test can `receive`."""
        arrivals: queue.Queue[Message] = queue.Queue()

        async def behaviour(process: ProcessContext) -> None:
            inbox = process.inbox()
            while True:
                arrivals.put(await inbox.receive())

        return Mailbox(self, self.spawn(behaviour), arrivals)

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
