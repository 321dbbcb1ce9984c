"""The catalog of Lua modules: one file per module in this package.

A module file defines `MODULE = LuaModule(...)`: a factory building its Python functions
once per host from the host's module contract (`lua_bindings.contract.ModuleHost`), and
optionally Lua source (`<name>.lua` beside it) that wraps them into the module table,
typically to yield for blocking calls. A module with no Lua source is the table of its
Python functions.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from importlib import resources
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

if TYPE_CHECKING:
    from lua_bindings.contract import ModuleHost
    from lua_bindings.state import LuaState

Functions = dict[str, Any]
H = TypeVar("H", bound="ModuleHost")

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "actors.lua_modules"
"""Other packages add modules under this entry-point group: `name = "pkg.mod:MODULE"`."""


@attrs.frozen
class LuaModule(Generic[H]):
    """A module: `functions(host)` builds its Python half from the module contract (a
    `ModuleHost`, or an extension of it such as the workflow host's)."""

    name: str
    functions: Callable[[H], Functions]
    lua: bool = True
    """Whether `<name>.lua` exists; it is run as `(rt, py)` and returns the module table."""
    package: str = __name__
    """The package holding `<name>.lua`: other hosts (workflows) ship their own variants."""


MODULE_NAMES = (
    "process",
    "payload",
    "time",
    "funcs",
    "ctx",
    "json",
    "uuid",
    "crypto",
    "events",
    "security",
    "registry",
    "io",
    "logger",
    "workflow",
)


def module_names() -> tuple[str, ...]:
    """Every module a host can offer: this package's and those installed by plugins."""
    return MODULE_NAMES + tuple(sorted(set(_plugin_modules()) - set(MODULE_NAMES)))


@functools.cache
def _module(name: str) -> LuaModule[Any] | None:
    try:
        return importlib.import_module(f"lua_bindings.modules.{name}").MODULE
    except ModuleNotFoundError as exc:
        if exc.name == f"lua_bindings.modules.{name}":
            return None
        raise


@functools.cache
def _plugin_modules() -> dict[str, LuaModule[Any]]:
    """Modules published by installed packages (e.g. `data_modules`: sql, store, fs...).
    A module that fails to import is logged and missing, like an unknown module."""
    found: dict[str, LuaModule[Any]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module = point.load()
        except Exception as exc:
            log.warning("Lua module %s (%s) failed to load: %s", point.name, point.value, exc)
            continue
        if isinstance(module, LuaModule):
            found[point.name] = module
    return found


@functools.cache
def _lua_source(package: str, name: str) -> str:
    return resources.files(package).joinpath(f"{name}.lua").read_text(encoding="utf-8")


class ModuleCatalog:
    """The modules a host offers. Python functions are built once per host and shared by
    all its states; Lua wrappers are run once per state that requires the module."""

    def __init__(
        self, host: ModuleHost, overrides: dict[str, LuaModule[Any]] | None = None
    ) -> None:
        self.host = host
        self._overrides = overrides or {}
        self._functions: dict[str, Any] = {}

    def spec(self, name: str) -> LuaModule[Any] | None:
        if name in self._overrides:
            return self._overrides[name]
        if name in MODULE_NAMES:
            return _module(name)
        return _plugin_modules().get(name)

    def has(self, name: str) -> bool:
        return self.spec(name) is not None

    def load(self, name: str, state: LuaState) -> Any:
        spec = self.spec(name)
        if spec is None:
            raise KeyError(name)
        functions = self._functions.get(name)
        if functions is None:
            functions = self._functions[name] = spec.functions(self.host)
        table = state.to_lua(functions)
        if not spec.lua:
            return table
        source = _lua_source(spec.package, spec.name)
        return state.run_module_source(source, f"=[module {name}]", state.rt, table)
