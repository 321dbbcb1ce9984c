"""The `store` module: the Python half (`store.lua` wraps it).

`store.get(id)` answers at once (structured errors); the store methods go through
`rt.await`: a memory store answers at once, a SQL store parks the task while the database
works. Method failures reach Lua as error values and `store.lua` turns them into the plain
strings the reference specifies ("key not found: x").
"""

from __future__ import annotations

from typing import Any

from actors.errors import ActorError, invalid
from data_modules.bridge import Bridge
from data_modules.kvstore import check_key
from data_modules.resources import Resources
from lua_bindings.contract import ModuleHost, Reply, nil_on_error, reply
from lua_bindings.convert import from_lua, text
from lua_bindings.modules import LuaModule


class StoreFunctions:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.resources = Resources.of(bridge.registry)

    def get_store(self, entry_id: Any = None, *_: Any) -> Any:
        """→ the store's entry id (`nil, err` through `nil_on_error`)."""
        ref = self.bridge.entry_id(entry_id, "store")
        self.resources.store(ref)
        return self.bridge.lua(ref)

    def _call(self, store_id: Any, op: str, key: Any, *args: Any) -> Reply:
        try:
            store = self.resources.store(text(store_id))
            name = check_key(text(key) if isinstance(key, bytes) else key)
            work = getattr(store, op)(name, *args)
        except ActorError as exc:
            return reply.failed(exc.error)
        if op == "get":
            return self.bridge.blocking(work, lambda value: (self.bridge.lua(value),))
        return self.bridge.blocking(work, lambda result: (result is not False, None))

    def get(self, store_id: Any, key: Any = None) -> Reply:
        return self._call(store_id, "get", key)

    def set(self, store_id: Any, key: Any = None, value: Any = None, ttl: Any = None) -> Reply:
        if value is None:
            return reply.failed(invalid("value is nil").error)
        try:
            data = from_lua(value)
        except ActorError as exc:
            return reply.failed(exc.error)
        return self._call(store_id, "set", key, data, ttl)

    def has(self, store_id: Any, key: Any = None) -> Reply:
        return self._call(store_id, "has", key)

    def delete(self, store_id: Any, key: Any = None) -> Reply:
        return self._call(store_id, "delete", key)


def _functions(host: ModuleHost) -> dict[str, Any]:
    functions = StoreFunctions(Bridge(host))
    return {
        "get_store": nil_on_error(functions.get_store),
        "get": functions.get,
        "set": functions.set,
        "has": functions.has,
        "delete": functions.delete,
    }


MODULE = LuaModule("store", _functions, package="data_modules")
