"""Entry kinds as plugins.

`actors` must load an app without importing Lua or Temporal code, yet it has to know which
kinds some installed host can run (to warn about the others). Each package that serves kinds
therefore publishes a `KindPlugin` under the entry-point group `actors.kinds`, e.g.

    [project.entry-points."actors.kinds"]
    lua = "lua_bindings.plugin:KINDS"

and this module only discovers them. A plugin that fails to import is logged and skipped: one
broken optional host must not stop the apps that do not use it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from actors.errors import invalid
from actors.registry import Entry, LoadError, Registry

if TYPE_CHECKING:
    from actors.runtime import AppRuntime

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "actors.kinds"

Checker = Callable[[Entry], Iterable[str]]
AppChecker = Callable[[Registry], Iterable[tuple[str, str]]]
Starter = Callable[["AppRuntime"], Awaitable[None]]
DefaultHost = Callable[[Entry, Registry], str]
"""The host an entry runs on when the caller names none; raises `ActorError` (Invalid)
naming what the entry lacks."""


def _kinds(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@attrs.frozen
class KindPlugin:
    """The kinds one package serves, plus an optional per-entry check.

    `check(entry)` returns human-readable problems (an empty iterable when the entry is fine);
    it runs at load time so a missing `method` or `source` is reported before anything starts.
    """

    kinds: frozenset[str] = attrs.field(converter=_kinds)
    name: str = ""
    check: Checker | None = None
    check_app: AppChecker | None = None
    """Problems that need the whole app (a reference to a missing entry, two routes that
    collide), as `(entry id, problem)`; run at load time after the per-entry checks."""
    start: Starter | None = None
    """Called once the node runs, to create the hosts and services of this plugin's kinds."""
    order: int = 0
    """Plugins start in ascending `order` (hosts that others depend on first)."""
    runnable: frozenset[str] = attrs.field(default=frozenset(), converter=_kinds)
    """Kinds that run as a process of their own (`actors exec`, `actors test`)."""
    terminal: frozenset[str] = attrs.field(default=frozenset(), converter=_kinds)
    """Kinds `actors run APP ENTRY` runs on the app's `terminal.host`."""
    default_host: DefaultHost | None = None
    """Where an entry of a `runnable` kind runs when the caller names no host."""
    terminal_host: DefaultHost | None = None
    """Where an entry of a `terminal` kind runs for `actors run APP ENTRY`."""

    def validate(self, entry: Entry) -> list[str]:
        """Problems with an entry of one of this plugin's kinds (none when there is no check)."""
        return list(self.check(entry)) if self.check is not None else []


def discover_kind_plugins(group: str = ENTRY_POINT_GROUP) -> list[KindPlugin]:
    """Load the installed plugins, sorted by entry-point name so the order is deterministic."""
    plugins: list[KindPlugin] = []
    for point in sorted(entry_points(group=group), key=lambda ep: ep.name):
        plugin = _load_plugin(point)
        if plugin is not None:
            plugins.append(plugin)
    return plugins


def _load_plugin(point: EntryPoint) -> KindPlugin | None:
    """Resolve one entry point to a plugin: an instance or a zero-argument factory of one."""
    try:
        obj = point.load()
        if not isinstance(obj, KindPlugin) and callable(obj):
            obj = obj()
    except Exception as exc:
        logger.warning("kind plugin %s (%s) failed to load: %s", point.name, point.value, exc)
        return None
    if not isinstance(obj, KindPlugin):
        logger.warning("kind plugin %s (%s) is not a KindPlugin: %r", point.name, point.value, obj)
        return None
    return obj if obj.name else attrs.evolve(obj, name=point.name)


def known_kinds(plugins: Iterable[KindPlugin]) -> frozenset[str]:
    """Every kind some plugin serves."""
    kinds: set[str] = set()
    for plugin in plugins:
        kinds |= plugin.kinds
    return frozenset(kinds)


def runnable_kinds(plugins: Iterable[KindPlugin], *, terminal: bool = False) -> frozenset[str]:
    """Kinds some plugin can run as a process (on a terminal host, with `terminal`)."""
    kinds: set[str] = set()
    for plugin in plugins:
        kinds |= plugin.terminal if terminal else plugin.runnable
    return frozenset(kinds)


def default_host(plugins: Iterable[KindPlugin], entry: Entry, registry: Registry) -> str:
    """The host `entry` runs on when none is named, as the plugin of its kind decides."""
    for plugin in plugins:
        if entry.kind in plugin.runnable and plugin.default_host is not None:
            return plugin.default_host(entry, registry)
    raise invalid(f"{entry.id} is a {entry.kind}, which no installed plugin runs as a process")


def terminal_host(plugins: Iterable[KindPlugin], entry: Entry, registry: Registry) -> str:
    """The host that runs `entry` with the terminal (`actors run APP ENTRY`)."""
    for plugin in plugins:
        if entry.kind in plugin.terminal and plugin.terminal_host is not None:
            return plugin.terminal_host(entry, registry)
    raise invalid(f"{entry.id} is a {entry.kind}, which no installed plugin runs on a terminal")


def validate_entries(registry: Registry, plugins: Iterable[KindPlugin]) -> list[LoadError]:
    """Run each plugin's check on the entries of its kinds; a crashing check is one more error."""
    plugin_list = list(plugins)
    errors: list[LoadError] = []
    for entry in registry:
        for plugin in plugin_list:
            if entry.kind in plugin.kinds:
                errors.extend(_check(plugin, entry))
    for plugin in plugin_list:
        if plugin.check_app is not None:
            errors.extend(_check_app(plugin, registry))
    return errors


def _check_app(plugin: KindPlugin, registry: Registry) -> list[LoadError]:
    assert plugin.check_app is not None
    try:
        problems = list(plugin.check_app(registry))
    except Exception as exc:
        logger.warning("kind plugin %s crashed validating the app", plugin.name, exc_info=True)
        return [LoadError(Path("<registry>"), None, f"validation by {plugin.name} failed: {exc}")]
    out = []
    for entry_id, problem in problems:
        entry = registry.get(entry_id)
        file = entry.file if entry is not None and entry.file is not None else Path("<registry>")
        out.append(LoadError(file, entry.name if entry is not None else entry_id, problem))
    return out


def _check(plugin: KindPlugin, entry: Entry) -> list[LoadError]:
    file = entry.file if entry.file is not None else Path("<registry>")
    try:
        problems = plugin.validate(entry)
    except Exception as exc:
        logger.warning("kind plugin %s crashed validating %s", plugin.name, entry.id, exc_info=True)
        problems = [f"validation by plugin {plugin.name or '?'} failed: {exc}"]
    return [LoadError(file, entry.name, problem) for problem in problems]
