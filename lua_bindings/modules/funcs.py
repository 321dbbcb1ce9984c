"""The `funcs` module (lua-api §7): function calls, executors and futures. funcs.lua shapes
the Lua side (Executor and Future tables); this file runs the calls.

How a call runs
  - A call is a process (lua-api §0, "functions are actors too"): a `function.lua` entry is
    spawned on the node-local virtual host `funcs`, a `process.lua` entry with
    `meta.default_host` on that host (§3.1). The callee has its own PID and mailbox while it
    runs, and its exit is the call's outcome under the return protocol.
  - The callee's context is the caller's context plus the executor's `with_context` values,
    actor and scope (`security.derive_context`), so values flow transitively into nested
    calls, spawns and futures (§7.5).
  - The caller waits through an exit hook on the callee's host (`LocalHostBase.on_exit`):
    the callee's exit answers the caller's parked task (or fills the future's channel)
    directly, with no event-loop task per call.
  - `meta.options.retry = {max_attempts, initial_delay (ms), backoff_factor}` on the callee
    entry retries a failed call: every failure of the callee counts (a raised error too),
    each attempt is a fresh process, and the waits are timers of the caller's scheduler.
    Defaults: one attempt, no delay, backoff factor 2. Resolution errors (bad target, unknown
    entry) are not retried.
  - Executor `with_options{timeout = ms}` bounds the whole call, retries included: when it
    expires the call fails with `Timeout` (retryable) and the running callee is terminated.

Lifetime
  The callee is **not linked** to the caller: a failing callee must not kill its caller,
  its failure is the call's result. Instead the call is tied to the caller's life: when the
  caller exits for any reason (returns with futures unread, raises, is terminated, dies in a
  link cascade) every call it still has in flight is stopped and its callee terminated.
  A cooperative CANCEL of the caller is not forwarded: the caller's code sees the event and
  decides (for instance with `future:cancel()`). `future:cancel()` terminates the callee
  and completes the future with a `Canceled` error (the channel delivers it).

Futures
  A future's channel is an ordinary channel of capacity one, so it mixes with any other
  channel in `channel.select`. On completion it receives one item: the result Payload (built
  once, and the same object `future:result()` returns every time) or the error object.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import ActorError, Error, InvalidError, NotFoundError
from actors.exits import terminated_error
from actors.host import SpawnRequest
from actors.messages import Event
from actors.pid import PID
from actors.registry import Entry, Registry
from actors.run_at_once import run_sync
from corelib import gotime
from lua_bindings.channels import Channel
from lua_bindings.contract import ModuleHost, Reply, awaitable, nil_on_error, reply
from lua_bindings.convert import from_lua, text
from lua_bindings.host import FUNCS_HOST, FUNCTION_KINDS, PROCESS_KINDS
from lua_bindings.modules import LuaModule
from lua_bindings.modules.security import Actor, Scope, derive_context

if TYPE_CHECKING:
    from lua_bindings.process import LuaProcess


def call_target(target: Any) -> str:
    """An `ns:name` call target (lua-api §7.4); `Invalid` otherwise."""
    if not isinstance(target, bytes | str) or not target:
        raise InvalidError("function target cannot be empty")
    name = text(target)
    namespace, colon, local_name = name.partition(":")
    if not colon or not namespace or not local_name:
        raise InvalidError(f"invalid function target {name!r}: expected namespace:name")
    return name


def resolve_target(registry: Registry, target: Any) -> tuple[str, Entry]:
    """(host name, entry) of a call target; raises Invalid / NotFound (lua-api §7.4)."""
    name = call_target(target)
    entry = registry.get(name)
    if entry is None:
        raise NotFoundError(f"function not found: {name}")
    if entry.kind in FUNCTION_KINDS:
        return FUNCS_HOST, entry
    if entry.kind in PROCESS_KINDS:
        host = entry.meta.get("default_host")
        if not isinstance(host, str) or not host:
            raise InvalidError(
                f"process entry {name} cannot be called: it has no meta.default_host"
            )
        return entry.resolve_ref(host), entry
    raise InvalidError(f"entry {name} is a {entry.kind}, not a function")


class RetryPolicy:
    __slots__ = ("backoff", "delay", "max_attempts")

    def __init__(self, max_attempts: int, delay: float, backoff: float) -> None:
        self.max_attempts = max_attempts
        self.delay = delay
        self.backoff = backoff

    @classmethod
    def of(cls, entry: Entry) -> RetryPolicy | None:
        options = entry.meta.get("options")
        retry = options.get("retry") if isinstance(options, dict) else None
        if not isinstance(retry, dict):
            return None
        attempts = _number(retry.get("max_attempts"), 1)
        if attempts <= 1:
            return None
        return cls(
            int(attempts),
            max(_number(retry.get("initial_delay"), 0), 0) / 1000,
            max(_number(retry.get("backoff_factor"), 2), 1),
        )


def _number(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return default


def parse_timeout(value: Any) -> float | None:
    """A `timeout` option in seconds: a number of milliseconds, a Go duration string or a
    Duration; 0 means none. Raises Invalid."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000
    elif isinstance(value, bytes | str):
        seconds = gotime.parse_duration(text(value)) / gotime.SECOND
    elif isinstance(value, gotime.Duration):
        seconds = value.ns / gotime.SECOND
    else:
        raise InvalidError("timeout must be a number of milliseconds")
    if seconds < 0:
        raise InvalidError("timeout cannot be negative")
    return seconds or None


_CALL_IDS = itertools.count(1)


class Call:
    """One call in flight: a synchronous `funcs.call` (`waiter`) or a future (`channel`)."""

    __slots__ = (
        "attempt",
        "callee_host",
        "caller",
        "canceled",
        "channel",
        "delay",
        "done",
        "error",
        "id",
        "pid",
        "request",
        "retry",
        "timeout",
        "timer",
        "undo_callee",
        "undo_caller",
        "value",
        "waiter",
    )

    def __init__(self, caller: LuaProcess, request: SpawnRequest, callee_host: str) -> None:
        self.id = next(_CALL_IDS)
        self.caller = caller
        self.request = request
        self.callee_host = callee_host
        self.retry: RetryPolicy | None = None
        self.timeout: float | None = None
        self.attempt = 0
        self.delay = 0.0
        self.pid: PID | None = None
        self.waiter: Any = None
        self.channel: Channel | None = None
        self.done = False
        self.canceled = False
        self.error: Error | None = None
        self.value: Any = None
        """The result as Python data; funcs.lua builds (and caches) the Payload."""
        self.timer: list[Any] | None = None
        self.undo_callee: Callable[[], None] | None = None
        self.undo_caller: Callable[[], None] | None = None


class FuncsFunctions:
    def __init__(self, host: ModuleHost) -> None:
        self.host = host

    # -- starting a call ----------------------------------------------------------------------

    def _prepare(
        self, target: Any, context: Any, timeout: Any, actor: Any, scope: Any, args: Any
    ) -> Call:
        caller = self.host.current
        node = self.host.node
        host_name, entry = resolve_target(self.host.registry, target)
        node.host(host_name)  # NotFound for an unknown host
        if not node.answers_at_once(host_name):
            raise InvalidError(f"host {host_name} cannot run function calls")
        n = args[b"n"] or 0
        values = tuple(from_lua(args[i]) for i in range(1, n + 1))
        extra = from_lua(context) if context is not None else None
        request = SpawnRequest(
            target=entry.id,
            args=values,
            parent=caller.pid,
            context=derive_context(caller.context, extra, actor, scope),
        )
        call = Call(caller, request, host_name)
        call.retry = RetryPolicy.of(entry)
        if call.retry is not None:
            call.delay = call.retry.delay
        call.timeout = timeout if isinstance(timeout, int | float) and timeout > 0 else None
        return call

    def _start(self, call: Call) -> Error | None:
        """First attempt; an error means nothing was started (the call fails at once)."""
        error = self._attempt(call)
        if error is not None:
            call.done = True
            return error
        call.undo_caller = self.host.on_exit(call.caller.pid, lambda _: self._caller_exited(call))
        if call.timeout is not None:
            call.timer = self.host.call_later(call.timeout, lambda: self._timed_out(call))
        return None

    def _attempt(self, call: Call) -> Error | None:
        call.attempt += 1
        node = self.host.node
        try:
            call.pid, call.undo_callee = node.spawn_call(
                call.callee_host, call.request, lambda event: self._exited(call, event)
            )
        except ActorError as exc:
            return exc.error
        return None

    # -- outcomes -------------------------------------------------------------------------------

    def _exited(self, call: Call, event: Event) -> None:
        call.pid = call.undo_callee = None
        if call.done:
            return
        retry = call.retry
        if event.error is not None and retry is not None and call.attempt < retry.max_attempts:
            delay, call.delay = call.delay, call.delay * retry.backoff
            self.host.call_later(delay, lambda: self._retry(call))
            return
        self._finish(call, event.value, event.error)

    def _retry(self, call: Call) -> None:
        if call.done:
            return
        error = self._attempt(call)
        if error is not None:
            self._finish(call, None, error)

    def _timed_out(self, call: Call) -> None:
        call.timer = None
        if not call.done:
            message = f"function call timed out after {(call.timeout or 0) * 1000:g} ms"
            self._finish(call, None, Error(message, errors.TIMEOUT, True))

    def _caller_exited(self, call: Call) -> None:
        call.undo_caller = None
        call.waiter = call.channel = None
        if not call.done:
            self._finish(call, None, terminated_error())

    def cancel(self, call: Call) -> bool:
        call.canceled = True
        if not call.done:
            self._finish(call, None, canceled_error())
        return True

    def _finish(self, call: Call, value: Any, error: Error | None) -> None:
        """The call is over: stop what is left of it and answer the caller."""
        call.done = True
        if call.timer is not None:
            self.host.cancel_later(call.timer)
            call.timer = None
        if call.undo_caller is not None:
            call.undo_caller()
            call.undo_caller = None
        pid, call.pid = call.pid, None
        if pid is not None:
            if call.undo_callee is not None:
                call.undo_callee()
                call.undo_callee = None
            with contextlib.suppress(NotFoundError):  # it has just exited by itself
                run_sync(self.host.node.terminate(None, pid))
        if call.waiter is not None:
            waiter, call.waiter = call.waiter, None
            if error is None:
                waiter.fire(value)
            else:
                waiter.fire(None, error)
            return
        channel = call.channel
        if channel is None or not call.caller.alive:
            return
        if error is None:
            call.value = value
            channel.try_send(self.host.keep_future(call.caller, call.id, value))
        else:
            call.error = error
            channel.try_send(error)

    # -- the Python half of funcs.lua --------------------------------------------------------------

    # `options` is the executor's whole `with_options` table: local calls read only its
    # `timeout` (passed separately), workflows read the `activity.*` keys (temporal.md §9.2).

    @awaitable
    def call(
        self,
        target: Any,
        context: Any,
        timeout: Any,
        actor: Any,
        scope: Any,
        args: Any,
        options: Any = None,
    ) -> Reply:
        call = self._prepare(target, context, timeout, actor, scope, args)
        call.waiter = self.host.park()
        error = self._start(call)
        if error is not None:
            call.waiter = None
            return reply.failed(error)
        return reply.parked()

    @nil_on_error
    def start_async(
        self,
        target: Any,
        context: Any,
        timeout: Any,
        actor: Any,
        scope: Any,
        args: Any,
        options: Any = None,
    ) -> tuple[Any, Channel]:
        call = self._prepare(target, context, timeout, actor, scope, args)
        call.channel = Channel(1)
        error = self._start(call)
        if error is not None:
            raise ActorError.of(error)
        return call, call.channel

    @staticmethod
    def is_complete(call: Call) -> bool:
        return call.done

    @staticmethod
    def is_canceled(call: Call) -> bool:
        return call.canceled

    @staticmethod
    def result(call: Call) -> tuple[Any, ...]:
        """`true, id, value` when the call succeeded (funcs.lua builds or reuses the
        Payload); `nil, err` when it failed; `nil, nil` while it runs."""
        if call.canceled:
            return None, canceled_error()
        if not call.done:
            return None, None
        if call.error is not None:
            return None, call.error
        return True, call.id, call.value

    @staticmethod
    def error(call: Call) -> tuple[Any, ...]:
        if call.canceled:
            return canceled_error(), True
        if call.error is not None:
            return call.error, True
        return None, False

    # -- executor checks ------------------------------------------------------------------------

    @nil_on_error
    def check_context(self, values: Any) -> Any:
        """A private copy of `with_context` values (Invalid when they cannot travel)."""
        copy = from_lua(values)
        if not isinstance(copy, dict | list):
            raise InvalidError("with_context expects a table")
        return self.host.lua(copy)

    @staticmethod
    @nil_on_error
    def check_timeout(options: Any) -> float | bool:
        return parse_timeout(options[b"timeout"]) or False

    @staticmethod
    def check_actor(actor: Any) -> bool:
        return isinstance(actor, Actor)

    @staticmethod
    def check_scope(scope: Any) -> bool:
        return isinstance(scope, Scope)


def canceled_error() -> Error:
    return Error("function call canceled", errors.CANCELED, False)


def bound_functions(fns: FuncsFunctions) -> dict[str, Any]:
    """The table funcs.lua receives; workflow hosts pass their own `FuncsFunctions`."""
    return {
        "call": fns.call,
        "async": fns.start_async,
        "cancel": fns.cancel,
        "is_complete": fns.is_complete,
        "is_canceled": fns.is_canceled,
        "result": fns.result,
        "error": fns.error,
        "check_context": fns.check_context,
        "check_timeout": fns.check_timeout,
        "check_actor": fns.check_actor,
        "check_scope": fns.check_scope,
    }


def _functions(host: ModuleHost) -> dict[str, Any]:
    return bound_functions(FuncsFunctions(host))


MODULE = LuaModule("funcs", _functions)
