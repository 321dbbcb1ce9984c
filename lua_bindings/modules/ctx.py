"""The `ctx` module (lua-api §8): read the current process's context values.

The context is `LocalProcess.context`, filled when the process (or function invocation) was
spawned: the spawner's own context plus its `with_context` values (`process.with_context`,
`funcs.new():with_context`), so values flow transitively (§7.5). The security identity
stored there (security.py) is not a context value and stays hidden.
"""

from __future__ import annotations

from typing import Any

from actors.errors import InternalError, InvalidError, NotFoundError
from lua_bindings.contract import ModuleHost, nil_on_error
from lua_bindings.convert import text
from lua_bindings.modules import LuaModule
from lua_bindings.modules.security import RESERVED, visible_context


def _functions(host: ModuleHost) -> dict[str, Any]:
    def context() -> dict[str, Any]:
        process = host.running
        if process is None:
            raise InternalError("no context available")
        return process.context

    @nil_on_error
    def get(key: Any = None) -> Any:
        values = context()
        if not isinstance(key, bytes | str) or not key:
            raise InvalidError("context key cannot be empty")
        name = text(key)
        if name in RESERVED or name not in values:
            raise NotFoundError(f"context key not found: {name}")
        return host.lua(values[name])

    @nil_on_error
    def all_values() -> Any:
        return host.lua(visible_context(context()))

    return {"get": get, "all": all_values}


MODULE = LuaModule("ctx", _functions, lua=False)
