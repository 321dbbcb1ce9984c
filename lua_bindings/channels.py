"""Channels that Python makes for a Lua process (lua-api §5).

Channels live in Lua (core.lua, "Channels"): sends, receives, `select` and the waiting
they do never enter Python. Module code that needs a channel of its own (a timer's, a
future's, an event subscription's) makes a `Channel` here: a number naming the Lua
channel, through which Python offers values (`try_send`) or, for a channel fed by a Python
queue (`source`), hands items over when a receiver asks (`pull`).

A channel is made while Lua code runs (a module function called from a process), in the
host state that runs it: `KERNEL.state`, set by the scheduler around each run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from actors.mailbox import MailQueue

if TYPE_CHECKING:
    from lua_bindings.state import LuaState


class _Kernel(threading.local):
    """The Lua state whose code runs now on this thread (Temporal runs workflow tasks, each
    with its own state, on worker threads while the node's hosts run on the loop's)."""

    state: LuaState | None = None


KERNEL = _Kernel()


class Channel:
    """A Lua channel made by Python. `capacity` 0 is unbuffered.

    `source`, when set, is a queue the channel reads from (`convert` turns an item into the
    Lua value a receiver gets); sends to such a channel are refused, as to a mailbox's.
    """

    __slots__ = ("__weakref__", "convert", "id", "source", "state")

    def __init__(
        self,
        capacity: int = 0,
        source: MailQueue | None = None,
        convert: Callable[[Any], Any] | None = None,
    ) -> None:
        state = KERNEL.state
        if state is None:
            raise RuntimeError("a channel must be made while a process runs")
        self.state = state
        self.source = source
        self.convert = convert
        self.id: int = state.channel_new(capacity, source is not None)
        if source is not None:
            state.sources[self.id] = self

    def try_send(self, value: Any) -> bool | None:
        """Offer a value: True when taken now, False when it would have to wait (it is then
        dropped), None when the channel is closed."""
        return self.state.offer(self.id, value)

    def clear(self) -> None:
        """Drop what the channel buffers (a timer's stale expiry)."""
        self.state.channel_clear(self.id)

    def __len__(self) -> int:
        return int(self.state.channel_len(self.id))

    # -- a channel fed by a Python queue --------------------------------------------------

    def pull(self) -> tuple[bool, Any]:
        source = self.source
        if source is None or not source.items:
            return False, None
        item = source.items.popleft()
        return True, self.convert(item) if self.convert else item

    def arm(self) -> None:
        """Receivers wait: hand them the next item the queue gets."""
        if self.source is not None:
            self.source.waiter = self._fed

    def _fed(self) -> None:
        self.state.channel_feed(self.id)

    def pending(self) -> int:
        return len(self.source.items) if self.source is not None else 0
