"""Serve an app folder for tests: booted on its own event loop in a thread, as `actors run`
would boot it, so tests talk to it with an ordinary HTTP client over a real socket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread

from actors.runtime import AppRuntime
from http_host.server import HttpServer


class ServedApp:
    def __init__(self, runtime: AppRuntime) -> None:
        self.runtime = runtime
        self.servers: dict[str, HttpServer] = {}
        self.ready = threading.Event()
        self.stop_requested: anyio.Event | None = None
        self.portal: anyio.from_thread.BlockingPortal | None = None
        self.failure: BaseException | None = None

    def url(self, service: str | None = None) -> str:
        if service is None:
            (server,) = self.servers.values()
        else:
            server = self.servers[service]
        return server.url

    def call(self, fn: Any, *args: Any) -> Any:
        """Run `fn(*args)` (a coroutine function) on the app's event loop."""
        assert self.portal is not None
        return self.portal.call(fn, *args)

    async def _main(self) -> None:
        async with anyio.from_thread.BlockingPortal() as portal, self.runtime.node:
            self.portal = portal
            self.stop_requested = anyio.Event()
            await self.runtime.start()
            self.servers = self.runtime.extensions.get("http_servers", {})
            self.ready.set()
            await self.stop_requested.wait()

    def run(self) -> None:
        try:
            anyio.run(self._main)
        except BaseException as exc:  # reported to the test thread
            self.failure = exc
        finally:
            self.ready.set()

    def stop(self) -> None:
        if self.portal is not None and self.stop_requested is not None:
            with suppress(RuntimeError):
                self.portal.call(self.stop_requested.set)


@contextmanager
def served(
    app_dir: Path, overrides: list[str] | None = None, **settings: Any
) -> Iterator[ServedApp]:
    runtime = AppRuntime.load(app_dir, overrides=overrides, settings=settings)
    app = ServedApp(runtime)
    thread = threading.Thread(target=app.run, name=f"app {app_dir.name}", daemon=True)
    thread.start()
    app.ready.wait(60)
    if app.failure is not None:
        raise app.failure
    try:
        yield app
    finally:
        app.stop()
        thread.join(30)
