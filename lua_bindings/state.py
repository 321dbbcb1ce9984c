"""A host's Lua state: the lupa runtime, the core (core.lua), compiled code and modules.

All processes of a host share this state; each has its own context (environment, tasks,
mailbox, caches) inside it, and the kernel in core.lua runs them (the methods read below
are what Python calls it with). Entry sources are type-erased and compiled
once per host to bytecode, which each process instantiates in its own environment.
"""

from __future__ import annotations

import functools
import time
import weakref
from collections.abc import Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, NamedTuple

import lupa.lua54 as lupa

from actors.errors import InvalidError, NotFoundError
from actors.registry import Entry
from lua_bindings import allocator, watchdog
from lua_bindings.app import REVALIDATE
from lua_bindings.convert import ToLua, text

if TYPE_CHECKING:
    from lua_bindings.app import LuaApp
    from lua_bindings.channels import Channel
    from lua_bindings.modules import ModuleCatalog


@functools.cache
def _runtime_source(name: str) -> str:
    return resources.files("lua_bindings").joinpath(name).read_text(encoding="utf-8")


_COMPILED: dict[tuple[str, str, str], tuple[Any, Any]] = {}
"""Compiled Lua by (what, chunk name, source), shared by every state of this Python process:
a worker makes a state per workflow run, and each would otherwise parse core.lua, the
module wrappers and the entry again. Values are (bytecode or False, error message)."""


def compiled(what: str, source: str, chunkname: str, compile: Any) -> tuple[Any, Any]:
    """`compile(source, chunkname)` once per process for the same inputs."""
    key = (what, chunkname, source)
    result = _COMPILED.get(key)
    if result is None:
        result = _COMPILED[key] = compile(source.encode(), chunkname.encode())
    return result


def _nothing() -> None:
    pass


def _channel_id(channel: Channel) -> int:
    return channel.id


METHOD_MODULES = {"time": "time", "duration": "time", "location": "time"}
"""Runtime object kinds whose methods a module installs in `rt.METHODS` when it loads."""

_LAZY_METHODS = """
local rt, modules = ...
setmetatable(rt.METHODS, {__index = function(methods, kind)
  local name = modules[kind]
  if name == nil then return nil end
  rt.module(name)
  return rawget(methods, kind)
end})
"""


class CallRun(NamedTuple):
    """What `LuaState.call_run` made and ran."""

    number: int
    """The process's PID number."""
    more: bool
    """Processes of the host are still ready."""
    returned: bool
    """The process returned during the run, without an error: `value` is what."""
    value: Any


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
        self._trim_allocator = allocator.install(self.runtime)
        self.to_lua = ToLua(self.runtime)
        self.sources: weakref.WeakValueDictionary[int, Channel] = weakref.WeakValueDictionary()
        """Channels fed by a Python queue, by number (core.lua keeps their handles)."""
        self.on_ready: Callable[[], None] = _nothing
        """Called after Python made something ready: the scheduler wakes up."""
        self.catalog = catalog
        self.app = app
        self._defined: dict[str, tuple[Entry, float, str]] = {}
        """Entries core.lua holds a factory for: (entry, when checked, source)."""
        self._methods: dict[str, bytes] = {}
        load, dump = self.runtime.eval("load"), self.runtime.eval("string.dump")
        code, _ = compiled(
            "core",
            _runtime_source("core.lua"),
            "=[core]",
            lambda source, name: (dump(load(source, name, b"t")), None),
        )
        chunk = load(code, b"=[core]", b"b")
        py = {
            **py_core,
            **self._channel_functions(),
            "load_module": self._load_module,
            "import_code": self._import_code,
        }
        core = chunk(self.to_lua(py), _SAMPLE, watchdog.open_in(self.runtime))
        # Read every Lua function Python calls now: reading a Lua table from Python while
        # Lua code is running (inside a coroutine) is unreliable in lupa.
        self.rt = core
        self.set_cpu_budget = core.set_cpu_budget
        self.restart_budget = core.restart_budget
        self.make_message = core.message
        self.make_event = core.event
        self.make_payload = core.payload
        self.remember_future = core.remember_future
        self.drop_context = core.drop_context
        # the kernel (core.lua): run queue, mailboxes, channels
        self.run = core.run
        self.wake = core.wake
        self.wake_first = core.wake_first
        self.running = core.running
        self.ready_count = core.ready_count
        self.quiet = core.quiet
        self.set_urgent = core.set_urgent
        self.deliver = core.deliver
        self.deliver_event = core.deliver_event
        self.pending_messages = core.pending_messages
        self.pending_events = core.pending_events
        self.channel_new = core.channel_new
        self._channel_offer = core.channel_offer
        self.channel_clear = core.channel_clear
        self.channel_len = core.channel_len
        self._channel_feed = core.channel_feed

        self._new_process = core.new_process
        self._call = core.call
        self._call_run = core.call_run
        # processes spawned in Lua (core.lua, "Spawning and exits inside Lua")
        self.configure_host = core.configure_host
        self.set_fast_spawn = core.set_fast_spawn
        self.next_counter = core.next_counter
        self.adopt = core.adopt
        self.lua_only_count = core.lua_only_count
        self.lua_only_pids = core.lua_only_pids
        self.lua_only_context = core.lua_only_context
        self.take_relations = core.take_relations
        self.forget_relation = core.forget_relation
        self._define_entry = core.define_entry
        self._entry_checked = core.entry_checked
        self._compile = core.compile
        self._compile_module = core.compile_module
        self._compile_entry = core.compile_entry
        self._dump = core.dump
        # Time values appear in every lifecycle event (`at`), so their methods must exist
        # even in processes that never `require("time")`: the module that defines a kind's
        # methods is loaded the first time a value of that kind is used.
        self.run_module_source(_LAZY_METHODS, "=[lazy methods]", core, self.to_lua(METHOD_MODULES))
        self.settle()

    @property
    def allocator_cached(self) -> bool:
        """The state's small blocks go through a cache of its own (`allocator`)."""
        return self._trim_allocator is not None

    def settle(self) -> int:
        """Give the free blocks that making the state left in its allocator's cache (the
        parser's garbage) back to the C library: a state that from now on runs code would
        keep them for nothing, and a pool of workflow states many times over. Called once
        a state is made; returns the bytes given back."""
        return int(self._trim_allocator()) if self._trim_allocator is not None else 0

    # -- channels Python made (lua_bindings.channels) --------------------------------------

    def offer(self, channel: int, value: Any) -> bool | None:
        taken: bool | None = self._channel_offer(channel, self.to_lua(value))
        if taken:
            self.on_ready()
        return taken

    def channel_feed(self, channel: int) -> None:
        self._channel_feed(channel)
        self.on_ready()

    def _channel_functions(self) -> dict[str, Any]:
        """The Python half of channels fed by a Python queue."""
        sources = self.sources

        def pull(channel: int) -> tuple[bool, Any]:
            source = sources.get(channel)
            return source.pull() if source is not None else (False, None)

        def arm(channel: int) -> None:
            source = sources.get(channel)
            if source is not None:
                source.arm()

        def pending(channel: int) -> int:
            source = sources.get(channel)
            return source.pending() if source is not None else 0

        return {"ch_pull": pull, "ch_arm": arm, "ch_pending": pending, "ch_id": _channel_id}

    # -- modules ------------------------------------------------------------------------------

    def _load_module(self, name: bytes) -> Any:
        """Called by core.lua the first time any process of the host requires `name`: the
        module table, False when there is no such module, or an error value to raise."""
        key = text(name)
        if not self.catalog.has(key):
            return False
        return self.catalog.load(key, self)

    def run_module_source(self, source: str, chunkname: str, *args: Any) -> Any:
        compile_module, dump = self._compile_module, self._dump
        code, _ = compiled(
            "module", source, chunkname, lambda src, name: (dump(compile_module(src, name)), None)
        )
        return compile_module(code, chunkname.encode())(*args)

    # -- app code -------------------------------------------------------------------------------

    def spec(self, entry: Entry, refused: dict[str, str] | None = None) -> Any:
        """What `require` may load for `entry`: its modules allow-list and imports.
        `refused` maps listed modules this host will not load to the error message
        `require` raises for them (a workflow refuses non-deterministic modules)."""
        imports: dict[str, Any] = {
            alias: entry.resolve_ref(ref)
            for alias, ref in (entry.data.get("imports") or {}).items()
        }
        modules: dict[str, Any] = {name: True for name in entry.data.get("modules") or ()}
        modules.update(refused or {})
        return self.to_lua({"modules": modules or {"": False}, "imports": imports or {"": False}})

    def bytecode(self, entry: Entry) -> tuple[bytes, bytes]:
        """(bytecode, chunk name) of an entry, compiled once per source version."""
        source, chunkname = self.app.source(entry)
        code, message = compiled("chunk", source, chunkname, self._compile)
        if code is False:
            raise InvalidError(text(message))
        return code, chunkname.encode()

    def new_process(
        self,
        entry: Entry,
        pid: str,
        routable: bool = False,
        plain: bool = False,
        start: Sequence[Any] | None = None,
    ) -> tuple[int, int]:
        """A new process context in this state with `entry` instantiated in it, in one call
        into Lua: (the context's number, by which Python refers to it; the main task's id).
        A `routable` context receives same-host messages without Python (`rt.LOCAL` in
        core.lua); a `plain` one (an empty process context) may spawn children without
        Python (`rt.spawn`). With `start` (Lua values), the main task is made ready with
        them as its arguments; without, the caller wakes it."""
        starting = (False,) if start is None else (True, *start)
        spec = self.process_spec(entry, pid, routable, plain)
        context, main = self._new_process(*spec, *starting)
        return int(context), int(main)

    def process_spec(
        self, entry: Entry, pid: str, routable: bool = False, plain: bool = False
    ) -> tuple[Any, ...]:
        """`rt.new_process`'s arguments before `start` for a process of `entry`, the entry's
        code sent to core.lua first when it is new or changed (`new_process`; a workflow's
        first call into Lua makes its process with them, temporal_host/wf_env.lua)."""
        return pid.encode(), routable, plain, *self._defined_entry(entry)

    def call(self, entry: Entry, args: Sequence[Any]) -> tuple[bytes, int] | None:
        """A process of `entry` for a caller outside the host's processes (`rt.call`): made
        in Lua with the PID it picks, routable and plain, without a Python record, its main
        task ready with `args` (Lua values); when it returns without an error the host's
        `call_returned` gets its value. (PID text, PID number), or None when only Python
        can spawn on this host now."""
        made = self._call(*self._defined_entry(entry), *args)
        if made is None:
            return None
        pid, number = made
        return pid, int(number)

    def call_run(self, entry: Entry, args: Sequence[Any], budget: int) -> CallRun | None:
        """`call`, then `run(budget)`, in one call into Lua (`rt.call_run`): when the
        process returns during the run, its value comes back here instead of through
        `call_returned`. None when only Python can spawn on this host now."""
        made = self._call_run(budget, *self._defined_entry(entry), *args)
        if made is None:
            return None
        number, more, returned, value = made
        return CallRun(int(number), bool(more), bool(returned), value)

    def _defined_entry(self, entry: Entry) -> tuple[bytes, bytes]:
        """(entry id, method) as core.lua's spawns name an entry, its code sent first when
        it is new or changed (`_ensure_defined`)."""
        self._ensure_defined(entry)
        return entry.id.encode(), self._methods[entry.id]

    def _ensure_defined(self, entry: Entry) -> None:
        version = self._defined.get(entry.id)
        now = time.monotonic()
        if version is None or version[0] is not entry or now - version[1] >= REVALIDATE:
            self._define(entry, now)

    def _define(self, entry: Entry, now: float) -> None:
        """Send core.lua the entry's code and spec when it is new or its source changed
        (looked at again at most once per REVALIDATE seconds, as LuaApp does)."""
        source, chunkname = self.app.source(entry)
        version = self._defined.get(entry.id)
        if version is None or version[0] is not entry or version[2] != source:
            self.bytecode(entry)  # the syntax check, with the error message of the plain chunk
            code, message = compiled("entry", source, chunkname, self._compile_entry)
            if code is False:
                raise InvalidError(text(message))
            method = (entry.data.get("method") or "main").encode()
            self._define_entry(
                entry.id.encode(), code, chunkname.encode(), self.spec(entry), method
            )
            self._methods[entry.id] = method
        else:
            self._entry_checked(entry.id.encode())
        self._defined[entry.id] = (entry, now, source)

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
