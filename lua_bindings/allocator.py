"""Put a cache of small free blocks in front of a Lua state's allocator (`_allocator.c`).

Lua allocates and frees a table, its array part and its hash part for every message,
payload and waiter; the cache serves those from free lists of the state's own instead of
glibc's arenas, about a tenth of a ping-pong between two processes (docs/performance.md,
"A cache of small blocks"). The state works the same without it.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from collections.abc import Callable
from typing import Any

from lua_bindings import native

log = logging.getLogger(__name__)

enabled = True
"""Install the cache in the states made from now on. Benchmarks turn it off to measure it."""


@functools.cache
def library() -> native.Native | None:
    """The bound allocator library, or None when it cannot be used."""
    return native.bind(
        "lua_bindings._allocator",
        "the Lua allocator's cache",
        "actors_allocator_bind",
        {3: "no probe state"},
        "Lua states use the C library's allocator alone",
    )


def install(runtime: Any) -> Callable[[], int] | None:
    """Install the cache in `runtime`'s Lua state, and return its `trim` (frees the blocks
    the cache holds, returns how many bytes); None when the cache is not built, is turned
    off, or the state has an allocator of its own (lupa's `max_memory`). Blocks made before
    the cache are served by it too, once freed."""
    lib = library()
    if lib is None or not enabled:
        return None
    opener = runtime.eval("package.loadlib")(lib.path, b"luaopen_actors_allocator")
    if isinstance(opener, tuple):  # nil, message, where
        log.warning("the Lua allocator's cache does not load: %s", opener[1])
        return None
    trim = opener()
    return trim or None


def live_caches() -> int:
    """How many states have a cache that their closing has not released yet."""
    lib = library()
    if lib is None:
        return 0
    count = lib.library.actors_allocator_live_caches
    count.restype = ctypes.c_long
    return int(count())
