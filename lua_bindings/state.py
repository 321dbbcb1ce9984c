"""One Lua state: the lupa runtime, the core (core.lua) and the app-code environment.

Each process owns a state. The state knows how to load an entry's code into a sandboxed
environment, how `require` resolves (the entry's `modules` allow-list and `imports`), and
how to turn Python values into Lua ones. It knows nothing of scheduling: `LuaProcess` drives
it through `rt.step`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import lupa.lua54 as lupa

from actors import errors
from actors.errors import ActorError, Error
from actors.registry import Entry
from lua_bindings.convert import ToLua

if TYPE_CHECKING:
    from lua_bindings.modules import ModuleCatalog


@functools.cache
def _runtime_source(name: str) -> str:
    return resources.files("lua_bindings").joinpath(name).read_text(encoding="utf-8")


class _Sample:
    """Any Python object: its userdata metatable is the one all Python objects share."""


_SAMPLE = _Sample()

ALWAYS_AVAILABLE = frozenset({"errors", "process", "channel", "payload"})


class LuaState:
    def __init__(self, py_core: dict[str, Callable[..., Any]], catalog: ModuleCatalog) -> None:
        self.runtime = lupa.LuaRuntime(
            encoding=None,
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
        )
        self.to_lua = ToLua(self.runtime)
        self.catalog = catalog
        load = self.runtime.eval("load")
        chunk = load(_runtime_source("core.lua").encode(), b"=[core]")
        core = chunk(self.to_lua(py_core), _SAMPLE)
        # Read every Lua function Python calls now: reading a Lua table from Python while
        # Lua code is running (inside a coroutine) is unreliable in lupa.
        self.rt = core
        self.step = core.step
        self.new_task = core.new_task
        self.make_message = core.message
        self.entry_task = core.entry_task
        self._make_env = core.make_env
        self._compile = core.compile
        self._compile_module = core.compile_module
        self._errors = core.errors
        self._channel = core.channel
        self._modules: dict[str, Any] = {}
        self._imports: dict[str, Any] = {}

    # -- modules ------------------------------------------------------------------------------

    def module(self, name: str) -> Any:
        """The module value in this state (built on first use, then cached)."""
        value = self._modules.get(name)
        if value is None:
            value = self.catalog.load(name, self)
            self._modules[name] = value
        return value

    def run_module_source(self, source: str, chunkname: str, *args: Any) -> Any:
        return self._compile_module(source.encode(), chunkname.encode())(*args)

    # -- app code -------------------------------------------------------------------------------

    def make_env(self, entry: Entry, resolve_import: Callable[[str], Any]) -> Any:
        """The environment app code of `entry` runs in, with its own `require`."""
        allowed = set(entry.data.get("modules") or ())
        imports = dict(entry.data.get("imports") or {})
        globals_ = {name: self.module(name) for name in ("process", "payload")}
        env: Any = None

        def require(name: Any) -> Any:
            key = name.decode() if isinstance(name, bytes) else str(name)
            if key in imports:
                cached = self._imports.get(key)
                if cached is None:
                    cached = self._imports[key] = resolve_import(entry.resolve_ref(imports[key]))
                return cached
            if key in ALWAYS_AVAILABLE:
                return self.module(key) if key in globals_ else self.core_module(key)
            if key not in allowed:
                raise ActorError(
                    Error(f'module "{key}" is not allowed (not in modules list)', errors.INVALID)
                )
            if not self.catalog.has(key):
                raise ActorError(Error(f'module "{key}" not found', errors.NOT_FOUND))
            return self.module(key)

        globals_["require"] = require
        env = self._make_env(self.to_lua(globals_))
        return env

    def compile(self, source: str, chunkname: str, env: Any) -> Any:
        """Compile app code (already type-erased) into `env`; a syntax error raises Invalid."""
        fn, message = self._compile(source.encode(), chunkname.encode(), env)
        if fn is False:
            raise ActorError(Error(_text(message), errors.INVALID, False))
        return fn

    def core_module(self, name: str) -> Any:
        return self._errors if name == "errors" else self._channel


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
