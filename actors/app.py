"""An app booted from Python: `async with actors.App("path/to/app") as app: ...`.

`App` is what `actors run` does, as an async context manager: it loads the app folder, starts
its hosts (Lua, Temporal workers, the embedded Temporal server when the app asks for one) and
its `auto_start` services, and on exit shuts them down as Ctrl-C would (CANCEL to local
processes, workers stop polling). Python code then spawns and messages processes by PID, Lua
processes, workflows and Python processes alike.

A Python process is an `async def behaviour(process, *args)`: it runs on the app's Python
host (`PYTHON_HOST`) with `process` (an `actors.Process`) as its whole view of the world,
and can do everything a Lua process can: receive, send, spawn, monitor, link, terminate.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any

import anyio
import attrs

from actors.errors import ActorError, Error, invalid, not_found, sole_exception
from actors.host import SpawnRequest
from actors.kinds import default_host
from actors.messages import EXIT
from actors.names import LOCAL
from actors.pid import PID
from actors.python_host import ProcessContext, PythonHost
from actors.registry import Entry
from actors.runtime import AppRuntime, LoadFailure
from actors.values import copy_value

__all__ = ["PYTHON_HOST", "App", "Exit"]

PYTHON_HOST = "python"
"""The host of an app's Python processes (the host part of their PIDs)."""

Behaviour = Callable[..., Awaitable[Any]]


@attrs.frozen
class Exit:
    """How a process ended: its result, or the error it failed with."""

    pid: PID
    value: Any = None
    error: Error | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def result(self) -> Any:
        """The value, or raise the error as `ActorError`."""
        if self.error is not None:
            raise ActorError.of(self.error)
        return self.value


class App:
    """An app folder booted on a node of this Python process.

    `overrides` are `NS:ENTRY:PATH=VALUE` strings (as `actors run -o`); `temporal_address`
    points every Temporal client at a server (`"embedded"` starts the bundled dev server);
    `services=False` starts the hosts only, not the `auto_start` entries; `ephemeral=True`
    keeps an embedded Temporal server's state in memory instead of `<app>/.actors/`.
    Loading fails with `ActorError` (Invalid) when a file of the app cannot be read as an
    app definition or the folder holds no entry; a problem in one entry is logged.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        overrides: Sequence[str] = (),
        temporal_address: str | None = None,
        services: bool = True,
        ephemeral: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        self._overrides = list(overrides)
        self._settings: dict[str, Any] = {"ephemeral": ephemeral}
        if temporal_address:
            self._settings["temporal_address"] = temporal_address
        self._services = services
        self._runtime: AppRuntime | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> App:
        try:
            runtime = AppRuntime.load(self.path, overrides=self._overrides, settings=self._settings)
            runtime.check()
        except LoadFailure as exc:
            raise invalid(str(exc)) from None
        await runtime.node.__aenter__()
        try:
            runtime.node.add_host(PythonHost(PYTHON_HOST, default_host=self._host_for))
            await runtime.start(services=self._services)
        except BaseException as exc:
            await _leave(runtime, exc)
            raise
        self._runtime = runtime
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        runtime, self._runtime = self._live(), None
        runtime.stop_services()
        return await _leave(runtime, exc)

    def _live(self) -> AppRuntime:
        if self._runtime is None:
            raise RuntimeError("the app is not running: use `async with App(path) as app`")
        return self._runtime

    # -- what is in the app -------------------------------------------------------------------

    def entry(self, entry_id: str) -> Entry:
        """The entry with this id; `NotFound` when there is none."""
        entry = self._live().app.registry.get(entry_id)
        if entry is None:
            raise not_found(f"no entry {entry_id} in {self.path}")
        return entry

    @property
    def hosts(self) -> list[str]:
        """The names of the hosts processes can be spawned on."""
        return list(self._live().node.hosts)

    # -- operations ---------------------------------------------------------------------------

    async def spawn(
        self,
        target: str | Behaviour,
        *args: Any,
        host: str | None = None,
        name: str | None = None,
        messages: Sequence[tuple[str, Any]] = (),
    ) -> PID:
        """Start a process and return its PID.

        `target` is an entry id (a `process.lua`, `function.lua` or `workflow.lua`), run on
        `host` or where its kind says (a workflow on its worker, a process on its
        `meta.default_host` or the app's only `process.host`), or a Python coroutine
        function, run on the Python host. `name` registers the process under that name;
        `messages` (topic, payload) are in its mailbox before anything sent later.
        """
        runtime = self._live()
        request = SpawnRequest(
            target=target,
            args=tuple(copy_value(list(args))),
            name=name,
            messages=tuple((topic, copy_value(payload)) for topic, payload in messages),
        )
        return await runtime.node.spawn(self._host_for(target, host), request)

    def _host_for(self, target: str | Behaviour, host: str | None = None) -> str:
        if host is not None:
            return host
        if callable(target):
            return PYTHON_HOST
        runtime = self._live()
        return default_host(runtime.plugins, self.entry(target), runtime.app.registry)

    async def send(self, dest: str | PID, topic: str, payload: Any = None) -> None:
        """Send a message from outside any process (its sender is nil): to converse, run a
        Python process (`spawn(behaviour)`) and send from it."""
        await self._live().node.send(None, dest, topic, payload)

    async def terminate(self, dest: str | PID) -> None:
        """End a process at once (its monitors get EXIT with a `Canceled` error)."""
        await self._live().node.terminate(None, dest)

    async def cancel(self, dest: str | PID, reason: str = "") -> None:
        """Ask a process to stop: it receives a CANCEL event and may clean up."""
        pid = self._live().node.resolve(dest)
        await self.run(_cancel, pid, reason)

    async def wait(self, dest: str | PID, *, timeout: float | None = None) -> Exit:
        """Wait for a process to end (by monitoring it) and return how it ended.

        A local process that has already ended, or never existed, ends with a `NotFound`
        error (a workflow's outcome stays known): to get the result of a process you start,
        use `run`, which monitors it from its first instruction.
        """
        target = self._live().node.resolve(dest)

        async def watch(process: ProcessContext) -> Exit:
            await process.monitor(target)
            return await _exit_of(process, target)

        return await self._outcome(watch, timeout)

    async def run(
        self,
        target: str | Behaviour,
        *args: Any,
        host: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Spawn `target` monitored, wait for it, and return its result; a failure raises
        `ActorError` with the process's error."""
        where = self._host_for(target, host)

        async def watch(process: ProcessContext) -> Exit:
            pid = await process.spawn(target, *args, host=where, monitor=True)
            return await _exit_of(process, pid)

        return (await self._outcome(watch, timeout)).result()

    async def _outcome(
        self, watch: Callable[[ProcessContext], Awaitable[Exit]], timeout: float | None
    ) -> Exit:
        """Run `watch` as a Python process and return what it found (handed over in memory:
        an `Exit` is not copied, its value already is)."""
        found: list[Exit] = []

        async def watcher(process: ProcessContext) -> None:
            found.append(await watch(process))

        host = self._live().node.host(PYTHON_HOST)
        assert isinstance(host, PythonHost)
        pid = await self.spawn(watcher)
        with anyio.fail_after(timeout):
            event = await host.wait_exit(pid)
        if event.error is not None:
            raise ActorError.of(event.error)
        return found[0]

    def register(self, name: str, pid: PID) -> None:
        """Give a live process a name other processes can send to."""
        self._live().node.register(name, pid, LOCAL)

    def lookup(self, name: str) -> PID:
        """The PID registered under `name`; `NotFound` when there is none."""
        return self._live().node.names.lookup(name)


async def _leave(runtime: AppRuntime, exc: BaseException | None) -> bool | None:
    """Shut the node down. An exception that ended the block (or the boot) comes out as it
    was, not wrapped in the node's task-group exception group."""
    try:
        return await runtime.node.__aexit__(
            type(exc) if exc is not None else None, exc, exc.__traceback__ if exc else None
        )
    except BaseExceptionGroup as group:
        if exc is not None and sole_exception(group) is exc:
            return False
        raise


async def _exit_of(process: ProcessContext, target: PID) -> Exit:
    """The EXIT of `target`, which `process` monitors; other events are set aside."""
    events = process.events()
    while True:
        event = await events.receive()
        if event.kind == EXIT and event.source == target:
            return Exit(event.source, event.value, event.error)


async def _cancel(process: ProcessContext, target: PID, reason: str) -> None:
    await process.cancel(target, reason)
