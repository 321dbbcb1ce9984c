"""The module contract: what the Python half of a Lua module may use, and how it answers.

A module file defines `MODULE = LuaModule(name, factory)`. The factory is called once per
host with a `ModuleHost` and returns the table of Python functions its Lua half (or Lua
code directly) calls. `ModuleHost` is the whole of what a module sees of the runtime:

- the current process (`current`, `running`) and the app's entries (`registry`);
- blocking calls: `park()` for a task that something else will answer, `call(work, sync)`
  for a node operation, `call_later` for timers of the runtime's own clock;
- value conversion (`lua`, `lua_message`, `keep_future`);
- clock and randomness (`time_source`, `random_bytes`), which the workflow host replaces
  with workflow time, durable timers and recorded randomness;
- terminal I/O (`terminal` and the `terminal_*` streams);
- everything between processes through the Node (`node`): spawn, send, monitor, link,
  names. A module never reaches a host other than its own but through the Node.

`LuaHost` satisfies the protocol; the workflow host (`temporal_host.driver`) is a
`LuaHost` whose clock, randomness and node-facing operations differ. Workflow variants of
a module (`temporal_host/wf_modules`) subclass or wrap the stock functions and receive a
`WorkflowModuleHost`, the same contract plus the run's command builder.

Answers to Lua
--------------
A Python function called from Lua answers in one of these shapes, and the helpers below
build each; modules never write the tuples by hand:

- behind `rt.await` (a call that may block): `reply.parked()` (the task waits for its
  `Waiter`), `reply.now(values...)`, `reply.failed(err)`; `@awaitable` turns an
  `ActorError` raised inside the function into `reply.failed`;
- a fallible call returned to Lua code as is: the values, or `nil, err`:
  `@nil_on_error` turns an `ActorError` into `nil, err` (`@false_on_error` into
  `false, err`, for the predicates whose failure value is `false`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final, ParamSpec, Protocol, TypeVar

from actors.errors import ActorError, Error

if TYPE_CHECKING:
    from actors.messages import Event, Message
    from actors.node import Node
    from actors.pid import PID
    from actors.registry import Registry
    from corelib.gotime import Location
    from lua_bindings.process import LuaProcess
    from lua_bindings.scheduler import Waiter

P = ParamSpec("P")
T = TypeVar("T")

Reply = tuple[Any, ...]
"""What a Python function behind `rt.await` returns (see `reply`)."""

TimerAction = Callable[[], None]


class reply:
    """The answers of a function behind `rt.await` (core.lua): status 0 means the task is
    parked on a `Waiter` that will `fire(values...)`; status 1 means answered now."""

    PARKED: Final[Reply] = (0,)

    @staticmethod
    def parked() -> Reply:
        return reply.PARKED

    @staticmethod
    def now(*values: Any) -> Reply:
        return (1, *values)

    @staticmethod
    def failed(error: Error | ActorError) -> Reply:
        return (1, None, error.error if isinstance(error, ActorError) else error)

    @staticmethod
    def values(answer: Reply) -> tuple[Any, ...] | None:
        """The values of an answer given now, or None when the task was parked."""
        return None if answer[0] == 0 else answer[1:]


def awaitable(fn: Callable[P, Reply]) -> Callable[P, Reply]:
    """An `ActorError` raised by `fn` answers the awaiting task with `nil, err`."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> Reply:
        try:
            return fn(*args, **kwargs)
        except ActorError as exc:
            return reply.failed(exc)

    return call


def _on_error(failure: Any) -> Callable[[Callable[P, T]], Callable[P, T | tuple[Any, Error]]]:
    def decorate(fn: Callable[P, T]) -> Callable[P, T | tuple[Any, Error]]:
        @functools.wraps(fn)
        def call(*args: P.args, **kwargs: P.kwargs) -> T | tuple[Any, Error]:
            try:
                return fn(*args, **kwargs)
            except ActorError as exc:
                return failure, exc.error

        return call

    return decorate


nil_on_error = _on_error(None)
"""Decorator: an `ActorError` raised by the function becomes `nil, err` in Lua."""

false_on_error = _on_error(False)
"""Decorator: an `ActorError` raised by the function becomes `false, err` in Lua."""


class TimeSource(Protocol):
    """The clock and timers of a host (`time`, `uuid` v1/v7, `crypto.jwt`).

    - `now()`: the current time (`time.now()`, and the value timers deliver);
    - `monotonic_ns()`: the clock timers run on, in nanoseconds;
    - `call_at(deadline_ns, action)`: run `action` (a `Waiter`, fired with no values, or a
      callable) once `monotonic_ns()` reaches `deadline_ns`; a deadline already past runs
      it on the next scheduler turn, after the processes that are ready now;
    - `cancel(handle)`: the action of a pending `call_at` will not run.
    """

    def now(self) -> Any: ...

    def monotonic_ns(self) -> int: ...

    def call_at(self, deadline_ns: int, action: Waiter | TimerAction) -> Any: ...

    def cancel(self, handle: Any) -> None: ...


class ModuleHost(Protocol):
    """What a module factory receives (see the module docstring)."""

    name: str
    node: Node
    time_source: TimeSource
    terminal: bool
    """Whether this host owns the terminal (`io` works only then)."""
    cpu_budget: float | None
    """Seconds a process may run without yielding (None: no limit); a module function that
    does long work inline, without parking, keeps to it."""
    terminal_args: list[str] | None
    terminal_stdin: Any
    terminal_stdout: Any
    terminal_stderr: Any
    """Streams replacing `sys.stdin.buffer` / `sys.stdout` / `sys.stderr` (None: those)."""

    # -- the current process ------------------------------------------------------------------

    @property
    def current(self) -> LuaProcess:
        """The process whose code runs now; `Invalid` outside any process."""
        ...

    @property
    def running(self) -> LuaProcess | None:
        """The process whose code runs now, or None."""
        ...

    @property
    def registry(self) -> Registry:
        """The app's entries."""
        ...

    # -- blocking calls -------------------------------------------------------------------------

    def park(self) -> Waiter:
        """A waiter for the running task; answer `reply.parked()` and fire it later."""
        ...

    def restart_budget(self) -> None:
        """A module function that stopped its own inline work at `cpu_budget` reports the
        overrun with an error of its own: the running step goes on with a fresh budget, so
        that error, not the kernel's budget error, is what the process fails with."""
        ...

    def call(
        self,
        work: Coroutine[Any, Any, Any],
        sync: bool,
        on_ok: Callable[[Any], tuple[Any, ...]] = ...,
    ) -> Reply:
        """Run a node operation for the current task (now when `sync`, else parked)."""
        ...

    def call_later(self, delay: float, action: TimerAction) -> Any:
        """Run `action` after `delay` seconds of the host's own clock; returns a handle."""
        ...

    def cancel_later(self, handle: Any) -> None: ...

    def on_exit(self, pid: PID, callback: Callable[[Event], None]) -> Callable[[], None] | None:
        """Call `callback(exit event)` when `pid`, a process of this host, exits."""
        ...

    # -- values -----------------------------------------------------------------------------------

    def lua(self, value: Any) -> Any:
        """`value` (plain data or a runtime object) as a Lua value of this host."""
        ...

    def lua_message(self, message: Message) -> Any:
        """A mailbox message as the Lua Message object."""
        ...

    def lua_event(self, event: Event, zone: Location) -> Any:
        """A lifecycle event as the plain Lua table of lua-api §4.4, `at` shown in `zone`."""
        ...

    def keep_future(self, process: LuaProcess, key: int, value: Any) -> Any:
        """The Payload of a future's result, kept in `process`'s Lua context under `key`."""
        ...

    # -- randomness -------------------------------------------------------------------------------

    def random_bytes(self, n: int) -> bytes: ...


ModuleFactory = Callable[[ModuleHost], dict[str, Any]]
