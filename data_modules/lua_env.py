"""The `env` module: `env.get(key)`, `env.set(key, value)`, `env.get_all()` over the app's
env storages and declared variables (`envstore`, which states the rules).

Errors: `Invalid` (empty or non-string key or value), `NotFound` (not set and no default),
`PermissionDenied` (undeclared key with no default storage; a write to a read-only variable
or storage), `Internal` (a storage that cannot be read or written).
"""

from __future__ import annotations

from typing import Any

from actors.errors import invalid
from data_modules.bridge import Bridge
from data_modules.resources import Resources
from lua_bindings.contract import ModuleHost, nil_on_error
from lua_bindings.convert import lua_type_name, text
from lua_bindings.modules import LuaModule


def _string(value: Any, what: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, bytes | str):
        raise invalid(f"env: {what} must be a string, got {lua_type_name(value)}")
    return text(value)


def _functions(host: ModuleHost) -> dict[str, Any]:
    bridge = Bridge(host)

    def env() -> Any:
        return Resources.of(bridge.registry).env

    def get(key: Any = None, *_: Any) -> Any:
        return bridge.lua(env().get(_string(key, "key")))

    def set_(key: Any = None, value: Any = None, *_: Any) -> Any:
        env().set(_string(key, "key"), _string(value, "value"))
        return True

    def get_all(*_: Any) -> Any:
        return bridge.lua(env().all())

    return {"get": nil_on_error(get), "set": nil_on_error(set_), "get_all": nil_on_error(get_all)}


MODULE = LuaModule("env", _functions, lua=False)
