"""`funcs` inside a workflow: every call is a Temporal activity (temporal.md §9).

`funcs.lua` is the same as for processes; this is the Python half behind it. A call
schedules the activity whose type is the target entry ID and parks the caller until the
result is in history; an async call returns a future at once and delivers the outcome on its
channel (as an incoming message of the pump, §5.2). Futures keep the stock semantics and
reuse the stock read methods (`result`, `error`, `is_complete`, `is_canceled`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import ActorError, Error
from lua_bindings.channels import Channel
from lua_bindings.convert import from_lua, text
from lua_bindings.modules import LuaModule
from lua_bindings.modules.funcs import FuncsFunctions, bound_functions
from temporal_host.wf_modules.commands import Phase, answer

if TYPE_CHECKING:
    from temporal_host.driver import WorkflowLuaHost


class ActivityCall:
    """A future's state, with the attributes the stock future methods read (`value` is the
    result as Python data; funcs.lua builds and caches the Payload)."""

    __slots__ = ("canceled", "channel", "done", "error", "handle", "id", "value")

    def __init__(self, channel: Channel) -> None:
        self.id = next(_CALL_IDS)
        self.channel = channel
        self.handle: Any = None
        self.done = False
        self.canceled = False
        self.error: Error | None = None
        self.value: Any = None


_CALL_IDS = itertools.count(1)


def _target(target: Any) -> str:
    """An `ns:name` target (lua-api §7.4); `Invalid` otherwise."""
    if not isinstance(target, bytes | str) or not target:
        raise ActorError(Error("function target cannot be empty", errors.INVALID, False))
    name = text(target)
    namespace, colon, local_name = name.partition(":")
    if not colon or not namespace or not local_name:
        raise ActorError(
            Error(
                f"invalid function target {name!r}: expected namespace:name", errors.INVALID, False
            )
        )
    return name


def _arguments(args: Any) -> list[Any]:
    n = args[b"n"] or 0
    return [from_lua(args[i]) for i in range(1, n + 1)]


def _table(value: Any) -> dict[str, Any]:
    data = from_lua(value) if value is not None else {}
    return data if isinstance(data, dict) else {}


class WorkflowFuncsFunctions(FuncsFunctions):
    def __init__(self, host: WorkflowLuaHost) -> None:
        super().__init__(host)
        self.commands = host.run.commands

    def _start(
        self, target: Any, context: Any, actor: Any, scope: Any, args: Any, options: Any
    ) -> tuple[str, list[Any], dict[str, Any], dict[str, Any]]:
        name = _target(target)
        extra = from_lua(context) if context is not None else None
        call_context = self.commands.call_context(extra, actor, scope)
        return name, _arguments(args), _table(options), call_context

    def call(
        self,
        target: Any,
        context: Any,
        timeout: Any,
        actor: Any,
        scope: Any,
        args: Any,
        options: Any = None,
    ) -> tuple[Any, ...]:
        try:
            name, values, opts, call_context = self._start(
                target, context, actor, scope, args, options
            )
            waiter = self.host.park()
            self.commands.activity(name, values, opts, call_context, answer(waiter))
        except ActorError as exc:
            return 1, None, exc.error
        return (0,)

    def start_async(
        self,
        target: Any,
        context: Any,
        timeout: Any,
        actor: Any,
        scope: Any,
        args: Any,
        options: Any = None,
    ) -> tuple[Any, ...]:
        call = ActivityCall(Channel(1))
        try:
            name, values, opts, call_context = self._start(
                target, context, actor, scope, args, options
            )
            # The outcome is a message on the future's channel: second phase of the batch.
            call.handle = self.commands.activity(
                name,
                values,
                opts,
                call_context,
                lambda v, e: self._complete(call, v, e),
                phase=Phase.MESSAGE,
            )
        except ActorError as exc:
            return None, exc.error
        return call, call.channel

    def _complete(self, call: ActivityCall, value: Any, error: Error | None) -> None:
        if call.done:
            return  # cancelled: a late result is ignored (§9.5)
        call.done = True
        if error is None:
            call.value = value
            # Built and parked in Lua at once: Python keeps no Lua object (lua-runtime.md).
            state = self.host.state
            payload = state.make_payload(self.host.lua(value))
            state.remember_future(self.host.run.process.lua_context, call.id, payload)
            call.channel.try_send(payload)
        else:
            call.error = error
            call.channel.try_send(error)

    def cancel(self, call: ActivityCall) -> tuple[Any, ...]:  # type: ignore[override]
        call.canceled = True
        if not call.done:
            call.done = True
            call.handle.cancel()
            call.channel.try_send(Error("function call canceled", errors.CANCELED, False))
        return (True,)


def _functions(host: WorkflowLuaHost) -> dict[str, Any]:
    return bound_functions(WorkflowFuncsFunctions(host))


MODULE = LuaModule("funcs", _functions)  # type: ignore[arg-type]
