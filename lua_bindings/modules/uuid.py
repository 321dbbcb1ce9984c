"""The `uuid` module (lua-api §12.1), bound to the pure-Python core `lua_bindings.uuids`.

Lua conventions: every function returns its value alone on success (so a result can be passed
straight on as an argument) and `nil, err` on failure; `uuid.validate` returns a bare boolean.
Argument errors are `Invalid`, generation failures `Internal`.

Randomness and clock are host hooks, looked up on every call, so that a durable workflow host
can record and replay them (lua-api §12, `temporal.md`):

- `host.random_bytes(n) -> bytes` when the host defines it, else `os.urandom`
  (`randomness(host)`, also used by the `crypto` module);
- the clock of v1 and v7 ids is the host's time source (`modules/time.py`,
  `host.time_source.now()`), i.e. workflow time in a workflow and the wall clock elsewhere
  (`clock_ns(host)`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import ActorError, Error
from lua_bindings import uuids
from lua_bindings.modules import LuaModule
from lua_bindings.modules.time import time_source

if TYPE_CHECKING:
    from lua_bindings.host import LuaHost


def randomness(host: Any) -> Callable[[int], bytes]:
    """The random source of `host`: its `random_bytes(n)` hook, or `os.urandom`."""

    def rand(n: int) -> bytes:
        hook = getattr(host, "random_bytes", None)
        return hook(n) if hook is not None else os.urandom(n)

    return rand


def clock_ns(host: Any) -> Callable[[], int]:
    """Unix nanoseconds from the host's time source (workflow time in workflows)."""
    return lambda: time_source(host).now().unix_ns


def lua_result(to_lua: Callable[[Any], Any], fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap `fn` in the Lua convention: `value` on success, `nil, err` on failure."""

    def call(*args: Any) -> Any:
        try:
            return to_lua(fn(*args))
        except ActorError as exc:
            return None, exc.error
        except Exception as exc:
            return None, Error(f"{type(exc).__name__}: {exc}", errors.INTERNAL, False)

    return call


def _functions(host: LuaHost) -> dict[str, Any]:
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
