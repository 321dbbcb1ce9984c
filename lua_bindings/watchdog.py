"""Open the CPU budget's watchdog (`_watchdog.c`) in a Lua state.

A count hook on every coroutine would enforce the budget with no native code, but it sends
every Lua instruction down the interpreter's slow path (a third of a ping-pong). The
watchdog keeps hooks off and arms one only on a step that has run past its budget; core.lua
falls back to the count hook when the library is missing (built at install by setuptools;
a machine with no C compiler installs without it).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from lua_bindings import native

log = logging.getLogger(__name__)


@functools.cache
def library() -> bytes | None:
    """The path of the watchdog library, bound to lupa's Lua; None when it cannot be used."""
    bound = native.bind(
        "lua_bindings._watchdog",
        "the CPU budget's watchdog",
        "actors_watchdog_bind",
        {3: "no free real-time signal"},
        "budgets use a count hook (slower)",
    )
    return None if bound is None else bound.path


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
