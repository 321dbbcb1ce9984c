"""Open the CPU budget's watchdog (`_watchdog.c`) in a Lua state.

A count hook on every coroutine would enforce the budget with no native code, but it sends
every Lua instruction down the interpreter's slow path (a third of a ping-pong). The
watchdog keeps hooks off and arms one only on a step that has run past its budget; core.lua
falls back to the count hook when the library is missing (built at install by setuptools;
a machine with no C compiler installs without it).
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import logging
from typing import Any

import lupa.lua54 as lupa

log = logging.getLogger(__name__)

_BIND_ERRORS = {
    1: "lupa's Lua 5.4 library is not loaded",
    2: "lupa's Lua 5.4 library lacks a function the watchdog calls",
    3: "no free real-time signal",
}


@functools.cache
def library() -> bytes | None:
    """The path of the watchdog library, bound to lupa's Lua; None when it cannot be used."""
    spec = importlib.util.find_spec("lua_bindings._watchdog")
    if spec is None or spec.origin is None:
        log.warning("the CPU budget's watchdog is not built: budgets use a count hook (slower)")
        return None
    status = ctypes.CDLL(spec.origin).actors_watchdog_bind(lupa.__file__.encode())
    if status != 0:
        log.warning(
            "the CPU budget's watchdog cannot start (%s): budgets use a count hook (slower)",
            _BIND_ERRORS.get(status, status),
        )
        return None
    return spec.origin.encode()


def open_in(runtime: Any) -> Any | None:
    """The watchdog's Lua module (a table with `watch`) in `runtime`, or None."""
    path = library()
    if path is None:
        return None
    opener = runtime.eval("package.loadlib")(path, b"luaopen_actors_watchdog")
    if isinstance(opener, tuple):  # nil, message, where
        log.warning("the CPU budget's watchdog does not load: %s", opener[1])
        return None
    return opener()
