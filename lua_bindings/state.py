"""A host's Lua state: the lupa runtime, the core (core.lua), compiled code and modules.

All processes of a host share this state; each has its own context (environment, tasks,
caches) inside it, created by `start_process`. Entry sources are type-erased and compiled
once per host to bytecode, which each process instantiates in its own environment.
"""

from __future__ import annotations

import functools
import itertools
from importlib import resources
from typing import TYPE_CHECKING, Any

import lupa.lua54 as lupa

from actors.errors import InvalidError, NotFoundError
from actors.registry import Entry
from lua_bindings.convert import ToLua, text

if TYPE_CHECKING:
    from lua_bindings.app import LuaApp
    from lua_bindings.modules import ModuleCatalog


@functools.cache
def _runtime_source(name: str) -> str:
    return resources.files("lua_bindings").joinpath(name).read_text(encoding="utf-8")


class _Sample:
    """Any Python object: its userdata metatable is the one all Python objects share."""


_SAMPLE = _Sample()


class LuaState:
    def __init__(self, py_core: dict[str, Any], catalog: ModuleCatalog, app: LuaApp) -> None:
        self.runtime = lupa.LuaRuntime(
            encoding=None,
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
        )
        self.to_lua = ToLua(self.runtime)
        self.catalog = catalog
        self.app = app
        self._bytecode: dict[tuple[str, str], bytes] = {}
        self._spec_sent: dict[str, Entry] = {}
        """Entries whose spec core.lua holds (it keeps them; Python keeps no Lua object)."""
        self._contexts = itertools.count(1)
        load = self.runtime.eval("load")
        chunk = load(_runtime_source("core.lua").encode(), b"=[core]")
        py = {**py_core, "load_module": self._load_module, "import_code": self._import_code}
        core = chunk(self.to_lua(py), _SAMPLE)
        # Read every Lua function Python calls now: reading a Lua table from Python while
        # Lua code is running (inside a coroutine) is unreliable in lupa.
        self.rt = core
        self.step = core.step
        self.set_cpu_budget = core.set_cpu_budget
        self.make_message = core.message
        self.make_payload = core.payload
        self.remember_future = core.remember_future
        self._new_context = core.new_context
        self.slot_in = core.slot_in
        self.drop_context = core.drop_context
        self._start_process = core.start_process
        self._compile = core.compile
        self._compile_module = core.compile_module
        # Time values appear in every lifecycle event (`at`), so their methods must exist
        # even in processes that never `require("time")`.
        core.module(b"time")

    # -- modules ------------------------------------------------------------------------------

    def _load_module(self, name: bytes) -> Any:
        """Called by core.lua the first time any process of the host requires `name`."""
        key = text(name)
        if not self.catalog.has(key):
            return False
        return self.catalog.load(key, self)

    def run_module_source(self, source: str, chunkname: str, *args: Any) -> Any:
        return self._compile_module(source.encode(), chunkname.encode())(*args)

    # -- app code -------------------------------------------------------------------------------

    def spec(self, entry: Entry) -> Any:
        """What `require` may load for `entry`: its modules allow-list and imports."""
        imports = {
            alias: entry.resolve_ref(ref)
            for alias, ref in (entry.data.get("imports") or {}).items()
        }
        modules = {name: True for name in entry.data.get("modules") or ()}
        return self.to_lua({"modules": modules or {"": False}, "imports": imports or {"": False}})

    def bytecode(self, entry: Entry) -> tuple[bytes, bytes]:
        """(bytecode, chunk name) of an entry, compiled once per source version."""
        source, chunkname = self.app.source(entry)
        key = (chunkname, source)
        code = self._bytecode.get(key)
        if code is None:
            code, message = self._compile(source.encode(), chunkname.encode())
            if code is False:
                raise InvalidError(text(message))
            self._bytecode[key] = code
        return code, chunkname.encode()

    def new_context(self) -> int:
        """A new process context in this state; Python refers to it by number."""
        number = next(self._contexts)
        self._new_context(number)
        return number

    def start_process(self, entry: Entry, context: int) -> int:
        """Instantiate `entry` in `context`; returns the main task id."""
        code, chunkname = self.bytecode(entry)
        method = (entry.data.get("method") or "main").encode()
        spec = None
        if self._spec_sent.get(entry.id) is not entry:
            spec = self.spec(entry)
            self._spec_sent[entry.id] = entry
        task, message = self._start_process(
            context, code, chunkname, entry.id.encode(), spec, method
        )
        if task is False:
            raise InvalidError(text(message))
        return task

    def _import_code(self, ref: bytes) -> tuple[bytes, bytes, Any]:
        """`require(alias)` of an import: the library's bytecode and spec (core.lua runs it
        in the importing process's context)."""
        entry = self.app.registry.get(text(ref))
        if entry is None:
            raise NotFoundError(f"import not found: {text(ref)}")
        if entry.kind not in ("library.lua", "module.lua"):
            raise InvalidError(f"import {entry.id} is a {entry.kind}, not a library")
        code, chunkname = self.bytecode(entry)
        return code, chunkname, self.spec(entry)
