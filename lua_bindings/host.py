"""The Lua host: runs `process.lua` entries (and function invocations) as local processes.

It is a `LocalHostBase`, so links, monitors, exits and names behave exactly as for every
other in-memory host; what it adds is the host's Lua state, whose kernel (core.lua) runs
the processes, sends between them and spawns without Python, and the scheduler that drives
it in one task. Processes the kernel spawned get their Python record when Python first
needs one (`Adopting`).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from actors import errors
from actors.errors import ActorError, Error, InvalidError
from actors.exits import LINK_EXIT_ON_SUCCESS, Source, monitor_event
from actors.host import SpawnRequest
from actors.local_host import LocalHostBase, LocalProcess
from actors.messages import CANCEL, EXIT, Event, Message
from actors.pid import PID, local_id
from actors.registry import Entry, Registry
from actors.run_at_once import run_sync
from corelib.gotime import GoTime, Local, Location
from lua_bindings import timevalues  # noqa: F401  (Time values cross processes)
from lua_bindings.app import LuaApp
from lua_bindings.contract import Reply, TimerAction, TimeSource, reply
from lua_bindings.convert import kind_of, lua_kind, sendable_kind, text
from lua_bindings.modules import LuaModule, ModuleCatalog
from lua_bindings.modules.time import SchedulerTimeSource
from lua_bindings.process import Adopting, LuaProcess, raised_error, returned_outcome
from lua_bindings.scheduler import Scheduler, Waiter, lua_values
from lua_bindings.state import LuaState

if TYPE_CHECKING:
    from actors.node import Node

log = logging.getLogger(__name__)


PROCESS_KINDS = ("process.lua", "process.lua.bc")
FUNCTION_KINDS = ("function.lua", "function.lua.bc")
DEFAULT_CPU_BUDGET = 2.0
"""The CPU budget of a host that sets none (seconds)."""
FUNCS_HOST = "funcs"
"""The node-local virtual host of function invocations (lua-api §0): no colon, so it cannot
collide with an entry ID."""


class LuaHost(LocalHostBase):
    """Also the `ModuleHost` of its modules (lua_bindings.contract): the members under
    "the module contract" below are all a module may use."""

    in_memory = True
    scheduler_class: type[Scheduler] = Scheduler
    state_class: type[LuaState] = LuaState
    cpu_budget: float | None = DEFAULT_CPU_BUDGET
    """Seconds a process may run without yielding before it fails with `Timeout`
    (docs/decisions.md). On by default, as Erlang pre-empts by reductions: a runaway loop
    fails instead of freezing the node; `None` turns it off."""
    event_zone: Location = Local
    """The zone of lifecycle events' `at` (workflows use UTC: the same on every replay)."""
    terminal_args: list[str] | None = None
    terminal_stdin: Any = None
    terminal_stdout: Any = None
    terminal_stderr: Any = None
    """The terminal of a terminal host (set by the CLI, or tests); None: `sys` streams."""

    def __init__(
        self,
        name: str,
        app: LuaApp,
        *,
        kinds: tuple[str, ...] = PROCESS_KINDS,
        max_processes: int | None = None,
        modules: dict[str, LuaModule] | None = None,
        terminal: bool = False,
        cpu_budget: float | None = None,
    ) -> None:
        super().__init__(name, max_processes)
        self.app = app
        self.kinds = kinds
        self.terminal = terminal
        self.scheduler = self.scheduler_class(name)
        self.time_source: TimeSource = SchedulerTimeSource(self.scheduler)
        self.catalog = ModuleCatalog(self, modules)
        self.state = self.state_class(self._core_functions(), self.catalog, app)
        if cpu_budget is not None:
            self.cpu_budget = cpu_budget or None  # 0 turns it off
        self.state.set_cpu_budget(self.cpu_budget)
        others = self.state.lua_only_count
        self.processes: Adopting[PID] = Adopting(self._adopt_pid, others)  # type: ignore[assignment]
        self.by_context: Adopting[int] = Adopting(self._adopt_context, others)
        """Live processes by Lua context number (the kernel names them so)."""
        self.scheduler.attach(self.state, self.by_context)
        self._at_once: Callable[[Event], None] | None = None
        """The `on_exit` of the call `_call_at_once` runs, until its process has a waiter."""

    def attach(self, node: Node) -> None:
        super().attach(node)
        prefix = str(PID(self.name, "", node.name))[:-1]  # "{node@host|"
        # Lua applies the exit rule itself only where it releases links on success.
        fast = self.max_processes is None and not LINK_EXIT_ON_SUCCESS[Source.PROCESS]
        self.state.configure_host(
            self.name.encode(), prefix.encode(), node.incarnation.encode(), fast, EXIT.encode()
        )

    async def start(self) -> None:
        self.node.start_soon(self.scheduler.run, self.node.start_soon)

    async def stop(self, grace: float) -> None:
        self.state.set_fast_spawn(False)
        for pid in list(self.state.lua_only_pids().values()):
            self._adopt_pid(PID.parse(text(pid)))
        await super().stop(grace)

    # -- the module contract (lua_bindings.contract.ModuleHost) ---------------------------------

    @property
    def current(self) -> LuaProcess:
        process = self.scheduler.current
        if process is None:
            raise InvalidError("no process context")
        return process

    @property
    def running(self) -> LuaProcess | None:
        return self.scheduler.current

    @property
    def registry(self) -> Registry:
        return self.app.registry

    def park(self) -> Waiter:
        return self.scheduler.park()

    def restart_budget(self) -> None:
        self.state.restart_budget()

    def call_later(self, delay: float, action: TimerAction) -> Any:
        return self.scheduler.call_at(time.monotonic() + delay, action)

    def cancel_later(self, handle: Any) -> None:
        self.scheduler.cancel_timer(handle)

    def lua_message(self, message: Message) -> Any:
        sender = message.sender
        return self.state.make_message(
            message.topic.encode(),
            str(sender).encode() if sender is not None else None,
            self.state.to_lua(message.payload),
        )

    def lua_event(self, event: Event, zone: Location) -> Any:
        return self.state.make_event(*self._event_fields(event, zone))

    def _event_fields(self, event: Event, zone: Location) -> tuple[Any, ...]:
        at = GoTime(event.at, zone)
        source = str(event.source).encode()
        if event.kind == CANCEL:
            return CANCEL.encode(), source, at, event.reason.encode(), False, None, None
        value = self.state.to_lua(event.value)
        return event.kind.encode(), source, at, None, True, value, event.error

    def deliver_lua_message(self, context: int, message: Message) -> None:
        """Put a message into the mailbox of process `context` (core.lua)."""
        sender, state = message.sender, self.state
        state.deliver(
            context,
            message.topic.encode(),
            str(sender).encode() if sender is not None else None,
            state.to_lua(message.payload),
        )
        state.on_ready()

    def deliver_lua_event(self, context: int, event: Event) -> None:
        """Put a lifecycle event into the mailbox of process `context` (core.lua)."""
        self.state.deliver_event(context, *self._event_fields(event, self.event_zone))
        self.state.on_ready()

    def keep_future(self, process: LuaProcess, key: int, value: Any) -> Any:
        # Built now and parked in the process's context at once: Python keeps no Lua object
        # past the call that made it (docs/lua-runtime.md).
        payload = self.state.make_payload(self.state.to_lua(value))
        self.state.remember_future(process.lua_context, key, payload)
        return payload

    def random_bytes(self, n: int) -> bytes:
        return os.urandom(n)

    # -- processes the kernel spawned (core.lua, "Spawning and exits inside Lua") ------------

    def new_pid(self) -> PID:
        return self._pid(self.state.next_counter())

    def _pid(self, number: int) -> PID:
        """The PID of process number `number` of this host (core.lua numbers them too)."""
        node = self.node
        return PID(self.name, local_id(number, node.incarnation), node.name)

    def _adopt_pid(self, pid: PID) -> LuaProcess | None:
        if pid.host != self.name:
            return None
        return self._adopted(self.state.adopt(str(pid).encode()))

    def _adopt_context(self, context: int) -> LuaProcess | None:
        return self._adopted(self.state.adopt(context))

    def _adopted(self, found: Any) -> LuaProcess | None:
        """The Python record of a process the kernel spawned, made now (`rt.adopt`)."""
        if found is None:
            return None
        context, pid, entry_id, main_task, at_once = found
        process = LuaProcess(
            PID.parse(text(pid)),
            host=self,
            entry=self.app.registry.get(text(entry_id)),
            state=self.state,
            lua_context=context,
            main_task=main_task,
        )
        process.mailbox.bind(self, context)
        dict.__setitem__(self.processes, process.pid, process)
        dict.__setitem__(self.by_context, context, process)
        waiting = self._at_once
        if at_once and waiting is not None:  # the call `_call_at_once` is running
            self._at_once = None
            self._wait_exit_of(process.pid, waiting)
        return process

    def spawn_call(
        self, request: SpawnRequest, on_exit: Callable[[Event], None], at_once: bool = False
    ) -> tuple[PID, Callable[[], None]]:
        """`LocalHostBase.spawn_call`; a call with nothing but a target and arguments (a Temporal
        activity's) is made in one call into Lua without a Python record (`rt.call`), and a
        function that returns without an error reports its value to `_call_returned`
        without one either. Python adopts the process if anything needs its record.
        `at_once`, when the kernel may run now: the call is made and run in one call into
        Lua (`_call_at_once`)."""
        if request.context or request.parent or request.name or request.messages:
            return super().spawn_call(request, on_exit)
        entry = self.app.entry(request.target, self.kinds)
        args = lua_values(self.state, request.args)
        if at_once:
            called = self._call_at_once(entry, args, on_exit)
            if called is not None:
                return called
        made = self.state.call(entry, args)
        if made is None:
            return super().spawn_call(request, on_exit)
        pid = self._pid(made[1])
        withdraw = self._wait_exit_of(pid, on_exit)
        self.scheduler.poke()
        return pid, withdraw

    def _call_at_once(
        self, entry: Entry, args: Sequence[Any], on_exit: Callable[[Event], None]
    ) -> tuple[PID, Callable[[], None]] | None:
        """The call made and run in one call into Lua (`Scheduler.call_run`); a function
        that returns meanwhile hands its value back with it, and `on_exit` is called before
        this returns. If Python adopts the process during the run, `_adopted` puts
        `on_exit` in place then, so its exit is not missed. None when the kernel may not
        run now (nothing was made)."""
        self._at_once = on_exit
        try:
            made = self.scheduler.call_run(entry, args)
        finally:
            waiting, self._at_once = self._at_once, None
        if made is None:
            return None
        pid = self._pid(made.number)
        if made.returned:
            value, error = returned_outcome(made.value, None)
            on_exit(monitor_event(pid, value, error))
        elif waiting is not None:  # not adopted during the run: `on_exit` waits from now
            return pid, self._wait_exit_of(pid, on_exit)
        return pid, functools.partial(self._withdraw_exit_waiter, pid, on_exit)

    def _call_returned(self, number: int, value: Any) -> None:
        """core.lua: process number `number`, made by `rt.call` and never adopted, returned
        `value`."""
        value, error = returned_outcome(value, None)
        self._tell_exit_waiters(self._pid(number), value, error)

    def _exit(self, process: LocalProcess, value: Any, error: Error | None) -> None:
        # The relations the kernel keeps join the record's before the exit rule runs.
        if process.alive and isinstance(process, LuaProcess) and process.lua_context:
            watchers, links, watching = self.state.take_relations(process.lua_context)
            process.relate("watchers", *_pids(watchers))
            process.relate("links", *_pids(links))
            process.relate("watching", *_pids(watching))
        super()._exit(process, value, error)

    def _forget(self, pid: PID, kind: bytes, peer: PID) -> bool:
        """Forget a relation the kernel keeps for `pid` ("watchers", "links", "watching")."""
        return bool(self.state.forget_relation(str(pid).encode(), kind, str(peer).encode()))

    def _lua_only(self, pid: PID) -> int | None:
        """The context of `pid` when the kernel spawned it and Python has no record."""
        if pid.host != self.name or self.processes.known(pid) is not None:
            return None
        context: int | None = self.state.lua_only_context(str(pid).encode())
        return context

    async def send(self, target: PID, message: Message) -> None:
        context = self._lua_only(target)
        if context is None:
            await super().send(target, message)
        else:
            self.deliver_lua_message(context, message)

    def deliver_event(self, target: PID, event: Event) -> None:
        if event.kind == EXIT:
            self._forget(target, b"watching", event.source)
        context = self._lua_only(target)
        if context is None:
            super().deliver_event(target, event)
        else:
            self.deliver_lua_event(context, event)

    def unmonitor(self, target: PID, watcher: PID) -> None:
        self._forget(target, b"watchers", watcher)
        process = self.processes.known(target)
        if process is not None:
            process.discard("watchers", watcher)

    def untrack_monitor(self, watcher: PID, target: PID) -> None:
        self._forget(watcher, b"watching", target)
        super().untrack_monitor(watcher, target)

    def link_released(self, target: PID, source: PID) -> None:
        self._forget(target, b"links", source)
        process = self.processes.known(target)
        if process is not None:
            process.discard("links", source)

    def unlink(self, target: PID, peer: PID) -> None:
        self._forget(target, b"links", peer)
        super().unlink(target, peer)

    def link_down(self, target: PID, source: PID, error: Error) -> None:
        if self._forget(target, b"links", source):
            process = self.processes.get(target)
            if process is not None:
                process.relate("links", source)
        super().link_down(target, source, error)

    # -- LocalHostBase hooks ---------------------------------------------------------------

    def _create(self, pid: PID, request: SpawnRequest) -> LocalProcess:
        entry = self.app.entry(request.target, self.kinds)
        return LuaProcess(
            pid, context=dict(request.context), host=self, entry=entry, state=self.state
        )

    def _run(self, process: LocalProcess, request: SpawnRequest) -> None:
        assert isinstance(process, LuaProcess)
        try:
            self.boot(process, routable=True, start=request.args)
        except ActorError as exc:
            # Exit after `spawn` returns, so the spawner can still wait for this exit.
            error = exc.error
            self.scheduler.call_at(0, lambda: self.finish(process, None, error))
            return
        self.scheduler.poke()

    def _halt(self, process: LocalProcess) -> None:
        assert isinstance(process, LuaProcess)
        process.close()

    def finish(
        self, process: LuaProcess, value: Any, error: Error | None, kernel_drops: bool = False
    ) -> None:
        """The main task ended (or any task raised): the process exits. `kernel_drops`: the
        kernel reported it and drops the context itself (`LuaProcess.close`)."""
        self._exit(process, value, error)
        process.close(kernel_drops)

    def _finished(self, context: int, returned: bool, a: Any, b: Any) -> bool:
        """core.lua: the main task of process `context` returned `a, b` (`returned`), or a
        task raised `a` with traceback `b`. True: the kernel drops the context now."""
        process = self.by_context.get(context)
        if process is None:
            return False
        if returned:
            value, error = returned_outcome(a, b)
            self.finish(process, value, error, kernel_drops=True)
        else:
            self.finish(process, None, raised_error(a, b), kernel_drops=True)
        return True

    # -- loading code ------------------------------------------------------------------------

    def boot(
        self, process: LuaProcess, routable: bool = False, start: Sequence[Any] | None = None
    ) -> None:
        """Give the process its context in the host's state and make its main task.
        `routable`: other processes of the host send to it inside Lua (node processes).
        `start`: the main task is ready to run with these arguments (without, the caller
        wakes it, as a workflow run does with its first step)."""
        assert process.entry is not None
        context, main = self.state.new_process(
            process.entry,
            str(process.pid),
            routable,
            plain=not process.context,
            start=None if start is None else lua_values(self.state, start),
        )
        self.booted(process, context, main)

    def booted(self, process: LuaProcess, context: int, main: int) -> None:
        """Process `process` has context `context` and main task `main` in the state now."""
        process.lua_context, process.main_task = context, main
        self.by_context[context] = process
        process.mailbox.bind(self, context)

    # -- the Python half of core.lua ------------------------------------------------------------

    def _core_functions(self) -> dict[str, Any]:
        return {
            "kind_of": kind_of,
            "sendable_kind": sendable_kind,
            "tostring": _tostring,
            "same": _same,
            "compare": _compare,
            "finished": self._finished,
            "call_returned": self._call_returned,
            "now": lambda: GoTime(time.time_ns(), self.event_zone),
            "error_kinds": dict(errors.KINDS),
            "err_get": self._err_get,
            "err_new": _err_new,
            "err_wrap": lambda err, context: err.wrap(text(context)),
            "err_call_stack": lambda err: self.lua(_call_stack(err)),
        }

    def _err_get(self, err: Error, field: bytes) -> Any:
        if field == b"stack":
            return (err.stack or "stack traceback:\n\t[runtime]").encode()
        return self.lua(getattr(err, field.decode()))

    # -- helpers for module functions ---------------------------------------------------------

    def lua(self, value: Any) -> Any:
        """`value` as a Lua value in this host's state."""
        return self.state.to_lua(value)

    def call(
        self,
        work: Coroutine[Any, Any, Any],
        sync: bool,
        on_ok: Callable[[Any], tuple[Any, ...]] = lambda _: (True,),
    ) -> Reply:
        """Run a node operation for the current task, in the `(status, ...)` shape that
        `rt.await` expects: answered now when `sync` (in-memory targets never suspend),
        else parked until the event loop finishes it. Failures become `nil, err`."""
        if sync:
            try:
                result = run_sync(work)
            except ActorError as exc:
                return reply.failed(exc)
            return reply.now(*on_ok(result))

        def done(waiter: Waiter, result: Any, exc: BaseException | None) -> None:
            if exc is None:
                waiter.fire(*on_ok(result))
            else:
                waiter.fire(None, errors.as_error(exc))

        self.scheduler.start_async(self.park(), work, done)
        return reply.PARKED


def _pids(table: Any) -> list[PID]:
    """A Lua array of PID texts."""
    return [PID.parse(text(pid)) for pid in table.values()] if table is not None else []


def _tostring(obj: Any) -> bytes:
    return str(obj).encode("utf-8", "surrogateescape")


def _same(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and attrs.has(type(a)) and a == b)


def _compare(a: Any, b: Any) -> int:
    if type(a) is not type(b) or not hasattr(a, "__lt__"):
        raise TypeError(f"attempt to compare {_kind_name(a)} with {_kind_name(b)}")
    return -1 if a < b else (1 if b < a else 0)


def _kind_name(value: Any) -> str:
    kind = kind_of(value)
    return kind.decode() if kind is not None else type(value).__name__


def _err_new(message: Any, kind: Any = None, retryable: Any = None, details: Any = None) -> Error:
    from lua_bindings.convert import from_lua

    return Error(
        text(message) if isinstance(message, bytes | str) else str(message),
        text(kind) if kind is not None else errors.UNKNOWN,
        retryable if isinstance(retryable, bool) else None,
        (from_lua(details) or None) if details is not None else None,
    )


def _call_stack(err: Error) -> dict[str, Any]:
    frames = []
    for line in err.stack.splitlines()[1:]:
        line = line.strip()
        source, _, rest = line.partition(":")
        number, _, name = rest.partition(":")
        if number.isdigit():
            frames.append({"source": source, "line": int(number), "name": name.strip()})
    return {"thread": "main", "frames": frames}


lua_kind(Error, "error", sendable=True)
