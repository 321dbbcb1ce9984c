"""The one seam between the data modules and the Lua host.

Module factories get a `LuaHost`; everything they need from it goes through `Bridge`, so the
modules themselves never reach into the host's internals (and move to the declared module
contract by changing this file alone).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from actors.errors import ActorError, Error
from actors.pid import PID
from actors.registry import Entry, Registry

if TYPE_CHECKING:
    from lua_bindings.host import LuaHost

Reply = tuple[Any, ...]


class Bridge:
    """What a data module may do with the host that loaded it."""

    def __init__(self, host: LuaHost) -> None:
        self._host = host

    @property
    def registry(self) -> Registry:
        return self._host.app.registry

    def lua(self, value: Any) -> Any:
        """`value` (plain Python data) as a Lua value."""
        return self._host.lua(value)

    def caller(self) -> tuple[PID, Entry | None]:
        """The calling process and its entry (raises `Invalid` outside any process)."""
        process = self._host.current
        return process.pid, process.entry

    def at_exit(self, pid: PID, callback: Callable[[], None]) -> Callable[[], None] | None:
        """Call `callback()` when process `pid` exits; returns a function that withdraws it."""
        return self._host.on_exit(pid, lambda _event: callback())

    def background(self, work: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run `work()` on the event loop, owned by nobody (cleanup after an exit)."""
        self._host.node.start_soon(work)

    def park(self) -> Callable[..., bool]:
        """Park the calling task; the returned function resumes it with its arguments (as
        the task's return values), once, on the event loop's thread. The module function
        then returns `PARKED`."""
        return self._host.park().fire

    def blocking(
        self,
        work: Coroutine[Any, Any, Any],
        on_ok: Callable[[Any], Reply] = lambda _: (True,),
    ) -> Reply:
        """Park the calling task until `work` finishes on the event loop; `rt.await` in Lua
        turns this into `on_ok(result)` or `nil, err` (an `ActorError` keeps its kind)."""
        return self._host.call(work, False, on_ok)


PARKED: Reply = (0,)
"""The reply of a call that parked its task (`rt.await` yields until it is resumed)."""


def fails(error: Error) -> Reply:
    """The `nil, err` reply of a call that failed before anything started (for `rt.await`)."""
    return 1, None, error


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a synchronous module function: an `ActorError` becomes `nil, err`."""

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except ActorError as exc:
            return None, exc.error

    call.__name__ = getattr(fn, "__name__", "call")
    return call
