"""An example Lua module written against the module contract only: the one
docs/lua-runtime.md ("Writing a module") shows; tests/test_module_contract.py runs it."""

from __future__ import annotations

from typing import Any

from actors.errors import InvalidError, NotFoundError
from lua_bindings.contract import ModuleHost, Reply, awaitable, false_on_error, nil_on_error, reply
from lua_bindings.convert import text
from lua_bindings.modules import LuaModule


def _functions(host: ModuleHost) -> dict[str, Any]:
    @nil_on_error
    def hello(name: Any = None) -> bytes:
        if not isinstance(name, bytes) or not name:
            raise InvalidError("greet.hello: name must be a non-empty string")
        return b"hello, " + name + b" from " + str(host.current.pid).encode()

    @awaitable
    def later(seconds: Any = None, word: Any = None) -> Reply:
        if not isinstance(seconds, int | float) or seconds < 0:
            raise InvalidError("greet.later: seconds must be a non-negative number")
        if seconds == 0:
            return reply.now(word)
        waiter = host.park()
        host.call_later(seconds, lambda: waiter.fire(word))
        return reply.parked()

    @false_on_error
    def known(key: Any = None) -> bool:
        if key != b"ann":
            raise NotFoundError(f"greet.known: nobody called {text(key)!r}")
        return True

    return {"hello": hello, "later": later, "known": known}


MODULE = LuaModule("greet", _functions, package=__package__)
