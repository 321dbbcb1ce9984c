"""The `uuid` module (lua-api §12.1), bound to the pure-Python core `corelib.uuids`.

Lua conventions: every function returns its value alone on success (so a result can be passed
straight on as an argument) and `nil, err` on failure; `uuid.validate` returns a bare boolean.
Argument errors are `Invalid`, generation failures `Internal`.

Randomness and clock come from the module contract (`lua_bindings.contract.ModuleHost`),
looked up on every call, so that a durable workflow host can record and replay them
(lua-api §12, `temporal.md`): `host.random_bytes(n)` (also used by the `crypto` module) and
the host's time source for the clock of v1 and v7 ids, i.e. workflow time in a workflow and
the wall clock elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors import errors
from corelib import uuids
from lua_bindings.contract import ModuleHost
from lua_bindings.modules import LuaModule


def randomness(host: ModuleHost) -> Callable[[int], bytes]:
    """The random source of `host`, looked up at each draw."""
    return lambda n: host.random_bytes(n)


def clock_ns(host: ModuleHost) -> Callable[[], int]:
    """Unix nanoseconds from the host's time source (workflow time in workflows)."""
    return lambda: host.time_source.now().unix_ns


def lua_result(to_lua: Callable[[Any], Any], fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap `fn` in the Lua convention: `value` on success, `nil, err` on failure (any
    exception of the pure core: an unexpected one is `Internal`)."""

    def call(*args: Any) -> Any:
        try:
            return to_lua(fn(*args))
        except Exception as exc:
            return None, errors.as_error(exc)

    return call


def _functions(host: ModuleHost) -> dict[str, Any]:
    rand, clock = randomness(host), clock_ns(host)
    to_lua = host.lua

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        return lua_result(to_lua, fn)

    return {
        "v1": wrap(lambda *_: uuids.v1(rand, clock)),
        "v3": wrap(lambda namespace=None, name=None, *_: uuids.v3(namespace, name)),
        "v4": wrap(lambda *_: uuids.v4(rand)),
        "v5": wrap(lambda namespace=None, name=None, *_: uuids.v5(namespace, name)),
        "v7": wrap(lambda *_: uuids.v7(rand, clock)),
        "validate": lambda value=None, *_: uuids.validate(value),
        "version": wrap(lambda value=None, *_: uuids.version(value)),
        "variant": wrap(lambda value=None, *_: uuids.variant(value)),
        "parse": wrap(lambda value=None, *_: uuids.parse(value)),
        "format": wrap(lambda value=None, style=None, *_: uuids.format(value, style)),
    }


MODULE = LuaModule("uuid", _functions, lua=False)
