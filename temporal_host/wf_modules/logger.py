"""`logger` and `print` inside a workflow (temporal.md §8.1, §8.2).

The stock module, silenced while the workflow replays history (a replay re-runs the code,
and its output would repeat every line already logged), unless the worker sets
`worker_options.enable_logging_in_replay`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import workflow

from lua_bindings.modules import LuaModule
from lua_bindings.modules import logger as stock
from temporal_host.wf_modules.host import WorkflowModuleHost


def _functions(host: WorkflowModuleHost) -> dict[str, Any]:
    functions = stock.MODULE.functions(host)
    if host.run.settings.log_in_replay:
        return functions
    return {name: _unless_replaying(fn) for name, fn in functions.items()}


def _unless_replaying(fn: Callable[..., None]) -> Callable[..., None]:
    def log(*args: Any) -> None:
        if not workflow.unsafe.is_replaying():
            fn(*args)

    return log


MODULE = LuaModule("logger", _functions)
