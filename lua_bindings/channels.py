"""Channels (lua-api §5): Go-style channels between the coroutines of one Lua process.

The process's inbox, events and `listen` topics are channels too, backed by the mailbox
queue, so they mix freely with ordinary channels, timers and futures in one `select`.
Every operation first tries to complete at once; only when it cannot does it register the
current task's `Waiter` and report "parked" (status 0) to the Lua wrapper, which yields.

Channels carry **slots**, not Lua values: an integer naming a value parked in the owning
process's context in Lua (`rt.put` / `rt.take` in core.lua). Python therefore never keeps a
Lua object that came in as a callback argument. Such an object is tied to the coroutine that
passed it, and lupa would touch that coroutine's freed stack when the object is dropped
after the coroutine has been collected. Values Python itself puts into a channel (a timer's
Time, a mailbox item) go through `Channel.slot`, the owner's slot maker.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs

from actors.mailbox import MailQueue
from actors.messages import Message
from lua_bindings.scheduler import OWNER, Scheduler, Waiter

PARKED = 0
DONE = 1

_CLOSED_SEND = "send on closed channel"
_NOTHING: tuple[()] = ()


@attrs.define(slots=True)
class ParkedMessage(Message):
    """A message between two Lua processes of one host: the copy is already parked in the
    receiver's context (core.lua `rt.park_message`), so Python routes it by topic and hands
    out `slot` without converting anything."""

    slot: int = 0


class Channel:
    """A channel. `capacity` 0 is unbuffered (send and receive rendezvous).

    `source`, when set, is a mailbox queue this channel reads from; `convert` turns a queued
    item into the Lua value(s) a receiver gets. Such channels are never closed by app code
    in practice, and sends to them are refused.
    """

    __slots__ = (
        "buffer",
        "capacity",
        "closed",
        "convert",
        "receivers",
        "senders",
        "slot",
        "source",
    )

    def __init__(
        self,
        capacity: int = 0,
        source: MailQueue | None = None,
        convert: Callable[[Any], Any] | None = None,
        slot: Callable[[Any], int] | None = None,
    ) -> None:
        self.capacity = capacity
        # An unbuffered channel never buffers and a process channel is never sent to: they
        # share an empty tuple instead of a deque each (an idle process keeps its inbox).
        self.buffer: deque[int] = deque() if capacity else _NOTHING  # type: ignore[assignment]
        self.closed = False
        self.receivers: deque[tuple[Waiter, int]] = deque()
        self.senders: deque[tuple[Waiter, int, int]] = (
            deque() if source is None else _NOTHING  # type: ignore[assignment]
        )
        self.source = source
        self.convert = convert
        owner = slot or OWNER.slot
        if owner is None:
            raise RuntimeError("a channel must be created by a process (no owner to slot into)")
        self.slot = owner

    # -- immediate attempts -----------------------------------------------------------------

    def try_receive(self) -> tuple[bool, Any, bool]:
        """(True, slot, ok) when a receive can complete now, else (False, None, False)."""
        if self.buffer:
            value = self.buffer.popleft()
            self._refill_from_sender()
            return True, value, True
        while self.senders:
            waiter, index, value = self.senders.popleft()
            if waiter.live:
                waiter.fire(index, value, True)
                return True, value, True
        source = self.source
        if source is not None and source.items:
            return True, self._slot_item(source.items.popleft()), True
        if self.closed:
            return True, None, False
        return False, None, False

    def _slot_item(self, item: Any) -> int:
        if type(item) is ParkedMessage:
            return item.slot
        return self.slot(self.convert(item) if self.convert else item)

    def try_send(self, value: Any) -> bool | None:
        """Offer a value from Python (a timer fire, a call result): True when taken now,
        False when it would have to wait (it is then dropped), None when closed."""
        if self.closed:
            return None
        if any(waiter.live for waiter, _ in self.receivers) or len(self.buffer) < self.capacity:
            return self.send_slot(self.slot(value))
        return False

    def send_slot(self, value: int) -> bool | None:
        """True when sent now, False when it must wait, None when the channel is closed."""
        if self.closed:
            return None
        while self.receivers:
            waiter, index = self.receivers.popleft()
            if waiter.live:
                waiter.fire(index, value, True)
                return True
        if len(self.buffer) < self.capacity:
            self.buffer.append(value)
            return True
        return False

    def _refill_from_sender(self) -> None:
        while self.senders and len(self.buffer) < self.capacity:
            waiter, index, value = self.senders.popleft()
            if waiter.live:
                self.buffer.append(value)
                waiter.fire(index, value, True)

    # -- waiting ------------------------------------------------------------------------------

    def wait_receive(self, waiter: Waiter, index: int, select: bool = False) -> None:
        """Queue a receiver. A select registers on several channels, so it also records how
        to withdraw from this one once another case fires."""
        entry = (waiter, index)
        self.receivers.append(entry)
        if select:
            waiter.cleanup.append(lambda: _discard(self.receivers, entry))
        if self.source is not None:
            self.source.waiter = self._on_item

    def wait_send(self, waiter: Waiter, index: int, value: Any, select: bool = False) -> None:
        entry = (waiter, index, value)
        self.senders.append(entry)
        if select:
            waiter.cleanup.append(lambda: _discard(self.senders, entry))

    def _on_item(self) -> None:
        """The mailbox queue got an item while receivers wait: hand it to the first live one."""
        source = self.source
        assert source is not None
        while source.items and self.receivers:
            waiter, index = self.receivers.popleft()
            if waiter.live:
                waiter.fire(index, self._slot_item(source.items.popleft()), True)
        if self.receivers:
            source.waiter = self._on_item

    def close(self) -> None:
        """Receivers get (nil, false); blocked senders raise "send on closed channel"."""
        if self.closed:
            return
        self.closed = True
        while self.receivers:
            waiter, index = self.receivers.popleft()
            waiter.fire(index, None, False)
        while self.senders:
            waiter, index, _ = self.senders.popleft()
            waiter.fire(-index, _CLOSED_SEND, False)

    def __len__(self) -> int:
        return len(self.buffer) + (len(self.source.items) if self.source is not None else 0)


def _discard(queue: deque[Any], entry: Any) -> None:
    with contextlib.suppress(ValueError):
        queue.remove(entry)


class ChannelOps:
    """The Python half of the Lua channel API; `Scheduler.current` is the calling process.

    Return shapes are what `core.lua` expects: a leading status (0 = parked, 1 = done)
    followed by the answer. A parked task is resumed with `(case index, value, ok)`, or
    `(-index, message, false)` when the channel it was sending on was closed.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def new(self, size: Any = 0) -> Channel:
        """A plain channel of the running process."""
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError("channel.new: size must be a non-negative integer")
        return Channel(size)

    def receive(self, channel: Channel) -> tuple[Any, ...]:
        ready, value, ok = channel.try_receive()
        if ready:
            return DONE, value, ok
        channel.wait_receive(self.scheduler.park(), 1)
        return (PARKED,)

    def send(self, channel: Channel, value: Any) -> tuple[Any, ...]:
        if channel.source is not None:
            return DONE, False, "cannot send to a process channel"
        sent = channel.send_slot(value)
        if sent is None:
            return DONE, False, _CLOSED_SEND
        if sent:
            return DONE, True
        channel.wait_send(self.scheduler.park(), 1, value)
        return (PARKED,)

    def select(
        self, n: int, channels: Any, sends: Any, values: Any, has_default: bool
    ) -> tuple[Any, ...]:
        """Perform the first ready case in the order given (deterministic, as the reference);
        otherwise wait on all of them. Cases arrive as parallel Lua arrays."""
        resolved: list[tuple[Channel, bool, Any]] = []
        for index in range(1, n + 1):
            channel, is_send = channels[index], sends[index]
            value = values[index] if is_send else None
            resolved.append((channel, is_send, value))
            if is_send:
                if channel.source is not None:
                    return DONE, -index, "cannot send to a process channel", False
                sent = channel.send_slot(value)
                if sent is None:
                    return DONE, -index, _CLOSED_SEND, False
                if sent:
                    return DONE, index, value, True
            else:
                ready, received, ok = channel.try_receive()
                if ready:
                    return DONE, index, received, ok
        if has_default:
            return DONE, 0, None, True
        waiter = self.scheduler.park()
        for index, (channel, is_send, value) in enumerate(resolved, start=1):
            if is_send:
                channel.wait_send(waiter, index, value, select=True)
            else:
                channel.wait_receive(waiter, index, select=True)
        return (PARKED,)

    @staticmethod
    def close(channel: Channel) -> None:
        channel.close()

    @staticmethod
    def length(channel: Channel) -> int:
        return len(channel)
