"""A Lua process: one Lua state, its tasks, and the return protocol of lua-api §3.1."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import attrs

from actors import errors
from actors.errors import ActorError, Error
from actors.local_host import LocalProcess
from actors.registry import Entry
from lua_bindings.convert import from_lua, text

if TYPE_CHECKING:
    from lua_bindings.host import LuaHost
    from lua_bindings.state import LuaState


_AS_IS = frozenset({int, bool, float, type(None), bytes})
"""Values a resumed task gets that lupa passes to Lua unchanged (slots, flags)."""


@attrs.define(eq=False)
class LuaProcess(LocalProcess):
    host: LuaHost | None = None
    entry: Entry | None = None
    state: LuaState | None = None
    lua_context: int = 0
    """The number of the process's context in the host's Lua state (core.lua)."""
    slot: Any = None
    """Parks a Lua value in this process's context and returns its slot number."""
    main_task: int = 0
    ready: deque[tuple[int, tuple[Any, ...]]] = attrs.field(factory=deque)
    queued: bool = False
    options: dict[str, Any] = attrs.field(factory=dict)

    def step(self, task: int, values: tuple[Any, ...]) -> None:
        assert self.state is not None and self.host is not None
        to_lua = self.state.to_lua
        status, a, b = self.state.step(
            task, *[v if type(v) in _AS_IS else to_lua(v) for v in values]
        )
        if status == b"park" or status == b"gone":
            return
        if status == b"done":
            if task == self.main_task:
                value, error = returned_outcome(a, b)
                self.host.finish(self, value, error)
            return
        self.host.finish(self, None, raised_error(a, b))

    def close(self) -> None:
        """Forget the process's tasks and caches in the host's Lua state."""
        self.ready.clear()
        if self.state is not None and self.lua_context:
            self.state.drop_context(self.lua_context)
            if self.host is not None:
                self.host.by_context.pop(self.lua_context, None)
        self.lua_context = 0


def returned_outcome(value: Any, err: Any) -> tuple[Any, Error | None]:
    """`return v` succeeds; `return v, e` with e a string or error fails (lua-api §3.1)."""
    if isinstance(err, Error):
        return None, err
    if isinstance(err, bytes | str):
        return None, Error(text(err))
    try:
        return from_lua(value), None
    except ActorError as exc:
        return None, Error(f"invalid result: {exc.error.message}", errors.INVALID, False)


def raised_error(raised: Any, traceback: Any) -> Error:
    """A raised error object is kept (with the stack attached); anything else is Internal."""
    stack = text(traceback) if traceback is not None else ""
    if isinstance(raised, Error):
        return raised if raised.stack else attrs.evolve(raised, stack=stack)
    return Error(text(raised) if raised is not None else "nil", errors.INTERNAL, False, stack=stack)
