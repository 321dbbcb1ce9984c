"""Load the project's C helpers for lupa's Lua 5.4 (`_watchdog.c`, `_allocator.c`).

Neither links against Lua: lupa's extension carries its own copy, loaded RTLD_LOCAL, so
each library has a `bind` function, called once here through ctypes, that looks up the API
functions it needs in that extension. Both are optional (setuptools builds them at install;
a machine without a C compiler installs without them), and the runtime works without
either, only slower: a helper that is missing or cannot bind is logged and reported as None.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging

import attrs
import lupa.lua54 as lupa

log = logging.getLogger(__name__)

NOT_LOADED, MISSING_FUNCTION = 1, 2
"""The bind statuses the two libraries share: lupa's extension is not loaded; it lacks a
function the library calls. Other statuses are each library's own."""


@attrs.frozen
class Native:
    """A bound C helper."""

    library: ctypes.CDLL
    """For Python's calls (ctypes)."""
    path: bytes
    """Its file, for Lua's package.loadlib."""


def bind(
    module: str, name: str, bind_function: str, errors: dict[int, str], without: str
) -> Native | None:
    """The C library of `module` (e.g. "lua_bindings._watchdog"), bound to lupa's Lua by its
    `bind_function`; None when it is not built or cannot bind, with a warning that names it
    (`name`, for people) and says what the runtime does instead (`without`). `errors` names
    the library's own statuses."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        log.warning("%s is not built: %s", name, without)
        return None
    library = ctypes.CDLL(spec.origin)  # never unloaded: Lua states keep calling into it
    status = getattr(library, bind_function)(lupa.__file__.encode())
    if status != 0:
        reasons = {
            NOT_LOADED: "lupa's Lua 5.4 library is not loaded",
            MISSING_FUNCTION: "lupa's Lua 5.4 library lacks a function it calls",
            **errors,
        }
        log.warning("%s cannot start (%s): %s", name, reasons.get(status, status), without)
        return None
    return Native(library, spec.origin.encode())
