"""A Lua process: one Lua state, its tasks, and the return protocol of lua-api §3.1."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from actors import errors
from actors.errors import ActorError, Error
from actors.local_host import LocalProcess
from actors.messages import Event, Message
from actors.registry import Entry
from lua_bindings.convert import from_lua, text

if TYPE_CHECKING:
    from lua_bindings.host import LuaHost
    from lua_bindings.state import LuaState


class LuaMailbox:
    """The Python face of a Lua process's mailbox, which lives in core.lua ("Mailboxes"):
    what other hosts, nodes and the exit rule deliver goes there. Until the process has its
    context (startup messages arrive first), deliveries wait here in order."""

    __slots__ = ("context", "early", "host")

    def __init__(self) -> None:
        self.host: LuaHost | None = None
        self.context = 0
        self.early: list[Message | Event] | None = None

    def bind(self, host: LuaHost, context: int) -> None:
        self.host, self.context = host, context
        early, self.early = self.early, None
        for item in early or ():
            if isinstance(item, Message):
                self.deliver(item)
            else:
                self.deliver_event(item)

    def _wait(self, item: Message | Event) -> None:
        if self.early is None:
            self.early = []
        self.early.append(item)

    def deliver(self, message: Message) -> None:
        host = self.host
        if host is None:
            self._wait(message)
            return
        host.deliver_lua_message(self.context, message)

    def deliver_event(self, event: Event) -> None:
        host = self.host
        if host is None:
            self._wait(event)
            return
        host.deliver_lua_event(self.context, event)

    def pending_messages(self) -> int:
        early = sum(isinstance(item, Message) for item in self.early or ())
        host = self.host
        return early + (host.state.pending_messages(self.context) if host is not None else 0)

    def pending_events(self) -> int:
        early = sum(not isinstance(item, Message) for item in self.early or ())
        host = self.host
        return early + (host.state.pending_events(self.context) if host is not None else 0)


@attrs.define(eq=False)
class LuaProcess(LocalProcess):
    mailbox: LuaMailbox = attrs.field(factory=LuaMailbox)
    host: LuaHost | None = None
    entry: Entry | None = None
    state: LuaState | None = None
    lua_context: int = 0
    """The number of the process's context in the host's Lua state (core.lua)."""
    main_task: int = 0
    options: dict[str, Any] = attrs.field(factory=dict)

    def close(self, kernel_drops: bool = False) -> None:
        """Forget the process's tasks, mailbox and caches in the host's Lua state.
        `kernel_drops`: the kernel reported the exit and drops the context itself once
        Python has applied it (`LuaHost._finished`), so only the record lets go of it."""
        if self.state is not None and self.lua_context:
            if not kernel_drops:
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


K = TypeVar("K")


class Adopting(dict[K, LuaProcess]):
    """A table of a Lua host's processes (by PID, or by context number) that also finds
    the processes the kernel spawned without Python: the first lookup of one *adopts* it,
    making its Python record (`LuaHost.adopt`). `len` counts both kinds."""

    def __init__(self, adopt: Callable[[K], LuaProcess | None], others: Callable[[], int]) -> None:
        super().__init__()
        self._adopt = adopt
        self._others = others

    def get(self, key: K, default: Any = None) -> Any:
        process = super().get(key)
        if process is None:
            process = self._adopt(key)
        return default if process is None else process

    def __getitem__(self, key: K) -> LuaProcess:
        process = self.get(key)
        if process is None:
            raise KeyError(key)
        return process

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def __len__(self) -> int:
        return super().__len__() + self._others()

    def __bool__(self) -> bool:
        return len(self) > 0

    def known(self, key: K) -> LuaProcess | None:
        """The record if Python has one, without adopting."""
        return super().get(key)
