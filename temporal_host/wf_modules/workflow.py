"""The `workflow` module (temporal.md §13): exists only inside workflows."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from actors.errors import InvalidError
from actors.host import SpawnRequest
from lua_bindings.contract import Reply, awaitable, nil_on_error
from lua_bindings.convert import from_lua, text
from lua_bindings.modules import LuaModule
from temporal_host.wf_modules.host import WorkflowModuleHost


def _integer(value: Any, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidError(f"workflow.version: {what} must be an integer")
    return value


def info_table() -> dict[str, Any]:
    """`workflow.info()`, also the answer to the `info` query (§14.2)."""
    info = workflow.info()
    return {
        "workflow_id": info.workflow_id,
        "run_id": info.run_id,
        "workflow_type": info.workflow_type,
        "task_queue": info.task_queue,
        "namespace": info.namespace,
        "attempt": info.attempt,
        "history_length": info.get_current_history_length(),
        "history_size": info.get_current_history_size(),
    }


def _functions(host: WorkflowModuleHost) -> dict[str, Any]:
    # `host.run` is read at each call: the host serves one run after another (states.py).

    def info() -> Any:
        return host.lua(info_table())

    @awaitable
    def exec_(target: Any, args: Any) -> Reply:
        """A child workflow on the worker its entry names, with default options (§10)."""
        name = text(target) if isinstance(target, bytes | str) else repr(target)
        namespace, _, local_name = name.partition(":")
        if not isinstance(target, bytes | str) or not namespace or not local_name:
            raise InvalidError(f"workflow.exec: invalid target {name}: expected ns:name")
        n = args[b"n"] or 0
        values = tuple(from_lua(args[i]) for i in range(1, n + 1))
        process = host.current
        request = SpawnRequest(
            target=name, args=values, parent=process.pid, context=dict(process.context)
        )
        commands = host.run.commands
        return commands.spawn_child(request, commands.worker_of(name), wait=True)

    @nil_on_error
    def version(change_id: Any, min_supported: Any, max_supported: Any) -> int:
        if not isinstance(change_id, bytes | str) or not change_id:
            raise InvalidError("workflow.version: change_id must be a non-empty string")
        low = _integer(min_supported, "min_supported")
        high = _integer(max_supported, "max_supported")
        return host.run.version(text(change_id), low, high)

    @awaitable
    def attrs(values: Any) -> Reply:
        data = from_lua(values) if values is not None else None
        if not isinstance(data, dict) or not ({"search", "memo"} & data.keys()):
            raise InvalidError("workflow.attrs: expected {search = {...}, memo = {...}}")
        return host.run.commands.upsert(data.get("search"), data.get("memo"))

    return {
        "info": info,
        "exec": exec_,
        "version": version,
        "attrs": attrs,
        "history_length": lambda: workflow.info().get_current_history_length(),
        "history_size": lambda: workflow.info().get_current_history_size(),
    }


MODULE = LuaModule("workflow", _functions, package=__package__)
