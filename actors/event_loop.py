"""The event loop the runtime runs on: uvloop when installed (see docs/decisions.md).

`run(fn, *args)` is `anyio.run` with that choice made in one place; `ACTORS_UVLOOP=0` asks
for the standard asyncio loop (to compare, or to rule the loop out when chasing a bug).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


def uses_uvloop() -> bool:
    """Whether `run` starts uvloop: installed, and not turned off by `ACTORS_UVLOOP=0`."""
    if os.environ.get("ACTORS_UVLOOP", "1") == "0":
        return False
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def run(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """`anyio.run(fn, *args)` on the runtime's event loop."""
    return anyio.run(fn, *args, backend_options={"use_uvloop": uses_uvloop()})
