"""`uuid` inside a workflow (temporal.md §8.1).

v4 is `workflow.uuid4()`; v1 and v7 draw on the host's randomness and clock hooks, which the
workflow host backs with `workflow.random()` and workflow time; v3 and v5 are pure. All of
them therefore return the same values on every replay.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from lua_bindings.contract import ModuleHost
from lua_bindings.modules import LuaModule
from lua_bindings.modules import uuid as stock


def _functions(host: ModuleHost) -> dict[str, Any]:
    functions = stock.MODULE.functions(host)
    functions["v4"] = stock.lua_result(host.lua, lambda *_: str(workflow.uuid4()))
    return functions


MODULE = LuaModule("uuid", _functions, lua=False)
