"""The `workflow` module (temporal.md §13): exists only inside workflows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporalio import workflow

from actors import errors
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from lua_bindings.convert import from_lua, text
from lua_bindings.modules import LuaModule

if TYPE_CHECKING:
    from temporal_host.driver import WorkflowLuaHost


def _invalid(message: str) -> Error:
    return Error(message, errors.INVALID, False)


def _integer(value: Any, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ActorError(_invalid(f"workflow.version: {what} must be an integer"))
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


def _functions(host: WorkflowLuaHost) -> dict[str, Any]:
    run = host.run

    def info() -> Any:
        return host.lua(info_table())

    def exec_(target: Any, args: Any) -> tuple[Any, ...]:
        """A child workflow on the worker its entry names, with default options (§10)."""
        name = text(target) if isinstance(target, bytes | str) else repr(target)
        namespace, _, local_name = name.partition(":")
        if not isinstance(target, bytes | str) or not namespace or not local_name:
            return 1, None, _invalid(f"workflow.exec: invalid target {name}: expected ns:name")
        n = args[b"n"] or 0
        values = tuple(from_lua(args[i]) for i in range(1, n + 1))
        process = host.current
        request = SpawnRequest(
            target=name, args=values, parent=process.pid, context=dict(process.context)
        )
        return run.commands.spawn_child(request, run.commands.worker_of(name), wait=True)

    def version(change_id: Any, min_supported: Any, max_supported: Any) -> tuple[Any, ...]:
        try:
            if not isinstance(change_id, bytes | str) or not change_id:
                raise ActorError(_invalid("workflow.version: change_id must be a non-empty string"))
            low = _integer(min_supported, "min_supported")
            high = _integer(max_supported, "max_supported")
            return (run.version(text(change_id), low, high),)
        except ActorError as exc:
            return None, exc.error

    def attrs(values: Any) -> tuple[Any, ...]:
        try:
            data = from_lua(values) if values is not None else None
            if not isinstance(data, dict) or not ({"search", "memo"} & data.keys()):
                raise ActorError(
                    _invalid("workflow.attrs: expected {search = {...}, memo = {...}}")
                )
            run.commands.upsert(data.get("search"), data.get("memo"))
        except ActorError as exc:
            return None, exc.error
        return (True,)

    return {
        "info": info,
        "exec": exec_,
        "version": version,
        "attrs": attrs,
        "history_length": lambda: workflow.info().get_current_history_length(),
        "history_size": lambda: workflow.info().get_current_history_size(),
    }


MODULE = LuaModule("workflow", _functions, package=__package__)  # type: ignore[arg-type]
