"""An app booted on a node: kind plugins create its hosts, services are supervised.

`AppRuntime` is what `actors run`, `actors test`, `actors worker` and the tests use. It knows
no kind itself; each installed plugin (Lua, Temporal...) creates the hosts for its kinds in
`start` and may add services to supervise.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any

import anyio
import attrs

from actors.kinds import KindPlugin, discover_kind_plugins, known_kinds, validate_entries
from actors.node import Node
from actors.registry import LoadedApp, LoadError, apply_overrides, load_app
from actors.supervisor import Service

log = logging.getLogger(__name__)

GC_THRESHOLDS = (10_000, 20, 100)
"""`gc.set_threshold` once an app runs (CPython's default is (700, 10, 10))."""


class LoadFailure(Exception):
    """The app folder cannot run as written: a file that is not a readable app definition
    (malformed YAML, a bad namespace, a broken lock file), or no entry at all."""


@attrs.define
class AppRuntime:
    app: LoadedApp
    node: Node
    plugins: list[KindPlugin]
    settings: dict[str, Any] = attrs.field(factory=dict)
    """Command-line settings plugins may read (e.g. `temporal_address`)."""
    services: list[Service] = attrs.field(factory=list)
    extensions: dict[str, Any] = attrs.field(factory=dict)
    """Objects plugins share with each other, by name (e.g. the Lua app for Temporal)."""

    @classmethod
    def load(
        cls,
        app_dir: str | Path,
        *,
        overrides: list[str] | None = None,
        settings: dict[str, Any] | None = None,
        node: Node | None = None,
        plugins: list[KindPlugin] | None = None,
        log_problems: bool = True,
    ) -> AppRuntime:
        """Load an app folder; loading problems are logged (unless the caller reports them
        itself), never fatal (lua-api §2.1)."""
        plugins = discover_kind_plugins() if plugins is None else plugins
        app = load_app(app_dir, known_kinds=known_kinds(plugins))
        if overrides:
            apply_overrides(app.registry, overrides)
        app.errors.extend(validate_entries(app.registry, plugins))
        if log_problems:
            for problem in app.errors:
                log.error("%s", problem)
            for warning in app.warnings:
                log.warning("%s", warning)
        return cls(app, node or Node(), plugins, settings or {})

    @property
    def errors(self) -> list[LoadError]:
        return self.app.errors

    def check(self) -> None:
        """Raise `LoadFailure` when the app cannot run as written (see there).

        A problem in one entry is not fatal (lua-api §2.1): the other entries still run. A
        file that could not be read is: running the rest would run a different app.
        """
        broken = [problem for problem in self.errors if problem.entry is None]
        if broken:
            more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
            raise LoadFailure(f"{broken[0]}{more}")
        if not len(self.app.registry):
            raise LoadFailure(
                f"{self.app.root} holds no app: no YAML file with a namespace and entries"
            )

    async def start(self, *, services: bool = True) -> None:
        """Create every plugin's hosts, then start the auto-start services (unless
        `services` is false: `actors worker` runs hosts and Temporal workers only)."""
        for plugin in sorted(self.plugins, key=lambda p: p.order):
            if plugin.start is not None:
                await plugin.start(self)
        # Modules, the registry and the hosts live as long as the runtime: keep them out of
        # the collector's full passes, whose pauses grow with every object it scans. Every
        # live process owns a few Python objects, so with CPython's default thresholds the
        # collector's passes over them made spawning 100 000 processes take 15-17 times as
        # long as 10 000; collecting less often brings that back under 10 (lua_idle_memory).
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        if services:
            for service in self.services:
                self.node.start_soon(service.run)

    def stop_services(self) -> None:
        for service in self.services:
            service.stop()

    async def run_forever(self) -> None:
        await anyio.sleep_forever()
