"""`funcs` inside a workflow: every call is a Temporal activity (temporal.md §9).

`funcs.lua` is the same as for processes; this is the Python half behind it. A call
schedules the activity whose type is the target entry ID and parks the caller until the
result is in history; an async call returns a future at once and delivers the outcome on its
channel (as an incoming message of the pump, §5.2). Futures keep the stock semantics and
reuse the stock read methods (`result`, `error`, `is_complete`, `is_canceled`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from actors.errors import ActorError, Error
from lua_bindings.channels import Channel
from lua_bindings.contract import Reply, awaitable, nil_on_error, reply
from lua_bindings.convert import from_lua
from lua_bindings.modules import LuaModule
from lua_bindings.modules.funcs import (
    FuncsFunctions,
    bound_functions,
    call_target,
    canceled_error,
)
from lua_bindings.scheduler import Waiter
from temporal_host.wf_modules.commands import Commands, Phase, answer
from temporal_host.wf_modules.host import WorkflowModuleHost

if TYPE_CHECKING:
    from temporal_host.driver import WorkflowRun


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

_target_name = functools.lru_cache(maxsize=256)(call_target)
"""`call_target` of the targets a worker's workflows call (as Lua passes them: bytes);
a refused target raises every time (exceptions are not cached)."""


def _arguments(args: Any) -> list[Any]:
    n = args[b"n"] or 0
    return [from_lua(args[i]) for i in range(1, n + 1)]


def _table(value: Any) -> dict[str, Any]:
    data = from_lua(value) if value is not None else {}
    return data if isinstance(data, dict) else {}


class WorkflowFuncsFunctions(FuncsFunctions):
    def __init__(self, host: WorkflowModuleHost) -> None:
        super().__init__(host)
        self.workflow_host = host

    # Read at each call: the host serves one run after another (temporal_host/states.py).
    @property
    def run(self) -> WorkflowRun:
        return self.workflow_host.run

    @property
    def commands(self) -> Commands:
        return self.workflow_host.run.commands

    def _activity(
        self, target: Any, context: Any, actor: Any, scope: Any, args: Any, options: Any
    ) -> tuple[str, list[Any], dict[str, Any], Mapping[str, Any]]:
        name = call_target(target)
        extra = from_lua(context) if context is not None else None
        call_context = self.commands.call_context(extra, actor, scope)
        return name, _arguments(args), _table(options), call_context

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
        name, values, opts, call_context = self._activity(
            target, context, actor, scope, args, options
        )
        waiter = self.host.park()
        self.commands.activity(name, values, opts, call_context, answer(waiter))
        return reply.parked()

    def call_plain(self, context: int, task: int, target: Any, *values: Any) -> Reply:
        """`funcs.call(target, ...)` without an executor (funcs.lua): the call a workflow
        makes most, in one Python call. Lua passes its running task (no `park` asking the
        kernel back) and the exported arguments as values; the call site adds no context,
        options, actor or scope, so the run's plain context is the activity's."""
        run = self.workflow_host.run
        scheduler = run.host.scheduler
        try:
            name = _target_name(target)
            args = [from_lua(value) for value in values]
            waiter = Waiter(scheduler, scheduler.processes[context], task)
            commands = run.commands
            commands.activity(name, args, {}, commands.plain_context, answer(waiter))
        except ActorError as exc:
            return reply.failed(exc)
        return reply.PARKED

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
        call = ActivityCall(Channel(1))
        name, values, opts, call_context = self._activity(
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
        return call, call.channel

    def _complete(self, call: ActivityCall, value: Any, error: Error | None) -> None:
        if call.done:
            return  # cancelled: a late result is ignored (§9.5)
        call.done = True
        if error is None:
            call.value = value
            call.channel.try_send(self.host.keep_future(self.run.process, call.id, value))
        else:
            call.error = error
            call.channel.try_send(error)

    def cancel(self, call: ActivityCall) -> bool:  # type: ignore[override]
        call.canceled = True
        if not call.done:
            call.done = True
            call.handle.cancel()
            call.channel.try_send(canceled_error())
        return True


def _functions(host: WorkflowModuleHost) -> dict[str, Any]:
    functions = WorkflowFuncsFunctions(host)
    return {**bound_functions(functions), "call_plain": functions.call_plain}


MODULE = LuaModule("funcs", _functions)
