"""What travels between processes: messages on topics, and lifecycle events."""

from __future__ import annotations

import time
from typing import Any

import attrs

from actors.errors import Error
from actors.pid import PID

__all__ = [
    "CANCEL",
    "EXIT",
    "LINK_DOWN",
    "Event",
    "Message",
    "cancel_event",
    "exit_event",
    "link_down_event",
]

EXIT = "pid.exit"
LINK_DOWN = "pid.link.down"
CANCEL = "pid.cancel"


@attrs.define(slots=True)
class Message:
    """A message in a mailbox. `payload` is already a private copy for the receiver.

    Not frozen: a frozen attrs class costs three times as much to build, and one is built
    for every message sent. Nothing mutates a message after delivery.
    """

    topic: str
    payload: Any = None
    sender: PID | None = None


@attrs.frozen(slots=True)
class Event:
    """A lifecycle event delivered to `events()`.

    EXIT and LINK_DOWN carry the exited process in `source` and its outcome in
    `value`/`error`; CANCEL carries the requester in `source` and the `reason`.
    `at` is wall-clock nanoseconds, set when the event is produced.
    """

    kind: str
    source: PID
    value: Any = None
    error: Error | None = None
    reason: str = ""
    at: int = attrs.field(factory=time.time_ns)


def exit_event(source: PID, value: Any = None, error: Error | None = None) -> Event:
    return Event(EXIT, source, value=value, error=error)


def link_down_event(source: PID, error: Error) -> Event:
    return Event(LINK_DOWN, source, error=error)


def cancel_event(requester: PID, reason: str = "") -> Event:
    return Event(CANCEL, requester, reason=reason)
