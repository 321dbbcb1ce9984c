"""The `ctx` module (lua-api §8): read the current process's context values.

The context is `LocalProcess.context`, filled when the process (or function invocation) was
spawned: the spawner's own context plus its `with_context` values (`process.with_context`,
`funcs.new():with_context`), so values flow transitively (§7.5). The security identity
stored there (security.py) is not a context value and stays hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import ActorError, Error
from lua_bindings.convert import text
from lua_bindings.modules import LuaModule
from lua_bindings.modules.security import RESERVED, visible_context

if TYPE_CHECKING:
    from lua_bindings.host import LuaHost


def _functions(host: LuaHost) -> dict[str, Any]:
    def context() -> dict[str, Any] | None:
        try:
            return host.current.context
        except ActorError:
            return None

    def get(key: Any = None) -> tuple[Any, ...]:
        values = context()
        if values is None:
            return None, Error("no context available", errors.INTERNAL, False)
        if not isinstance(key, bytes | str) or not key:
            return None, Error("context key cannot be empty", errors.INVALID, False)
        name = text(key)
        if name in RESERVED or name not in values:
            return None, Error(f"context key not found: {name}", errors.NOT_FOUND, False)
        return (host.lua(values[name]),)

    def all_values() -> tuple[Any, ...]:
        values = context()
        if values is None:
            return None, Error("no context available", errors.INTERNAL, False)
        return (host.lua(visible_context(values)),)

    return {"get": get, "all": all_values}


MODULE = LuaModule("ctx", _functions, lua=False)
