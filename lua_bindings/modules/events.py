"""The `events` module (lua-api §14): an in-process publish/subscribe bus, one per node.

The bus is for observability and is best effort. It is unrelated to `process.events()`.

- `events.subscribe(system_pattern, kind?)` → Subscription, or `nil, err`. `*` in the
  pattern matches any run of characters, dots included (`"orders.*"` matches
  `orders.created`); a pattern without `*` matches that system exactly. `kind`, when given
  and not empty, must equal the event's kind (`*` works there too).
- `sub:channel()` → the same channel on every call; each item is a table
  `{system, kind, path, data}`. `sub:close()` ends the subscription and closes the channel
  (events already queued can still be received, then the channel reports closed).
- `events.send(system, kind, path, data?)` → `true`, or `nil, err`. `data` is any value that
  could be sent to another process (each subscriber gets its own copy).
- Empty or non-string `system`, `kind`, `path` or pattern → `nil, err` of kind `Invalid`.

Delivery is synchronous: `send` puts the event into every matching subscription's queue
before it returns, so events from one sender (coroutine or process) arrive in send order.
A subscription's queue holds at most `MAX_PENDING` undelivered events; beyond that new
events are dropped for that subscriber (best effort, and a subscriber that never reads
cannot exhaust memory).

Subscriptions die with their process: delivery checks that the owner is alive, and dead
owners' subscriptions are removed from the bus on every `subscribe` and `send`, so they
never receive anything and are not kept.

Globals `subscribe` / `unsubscribe` (lua-api §3.2, our choice; see docs/decisions.md):
`subscribe(pattern, kind?)` is `events.subscribe` returning the subscription's channel
(`channel` or `nil, err`); `unsubscribe(channel)` closes the subscription that channel
belongs to and returns `true`, or `false` when the channel is not a live subscription of the
calling process. They need no `modules:` entry.

Python code reaches the same bus with `bus_for(node)`.
"""

from __future__ import annotations

import functools
import itertools
import re
import weakref
from collections.abc import Callable
from typing import Any

from actors import errors
from actors.mailbox import MailQueue
from lua_bindings.channels import Channel
from lua_bindings.contract import ModuleHost, nil_on_error
from lua_bindings.convert import from_lua, lua_type_name
from lua_bindings.modules import LuaModule

MAX_PENDING = 10_000
"""Undelivered events one subscription keeps; later ones are dropped for that subscriber."""


@functools.lru_cache(maxsize=512)
def _matcher(pattern: str) -> Callable[[str], Any]:
    if "*" not in pattern:
        return pattern.__eq__
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.compile(regex, re.DOTALL).fullmatch


def _always(_: str) -> bool:
    return True


class Subscription:
    """One subscriber: its patterns and the queue events are put into."""

    __slots__ = (
        "_alive",
        "bus",
        "dropped",
        "id",
        "kind",
        "match_kind",
        "match_system",
        "pattern",
        "queue",
    )

    def __init__(
        self,
        bus: EventBus,
        sub_id: int,
        pattern: str,
        kind: str | None,
        alive: Callable[[], bool] | None,
    ) -> None:
        self.bus = bus
        self.id = sub_id
        self.pattern = pattern
        self.kind = kind
        self.match_system = _matcher(pattern)
        self.match_kind = _matcher(kind) if kind else _always
        self.queue = MailQueue(pattern)
        self._alive = alive
        self.dropped = 0

    @property
    def alive(self) -> bool:
        return self._alive is None or self._alive()

    def close(self) -> None:
        self.bus.unsubscribe(self)


class EventBus:
    """The node's event bus."""

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self.max_pending = max_pending
        self._subs: dict[int, Subscription] = {}
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._subs)

    def subscribe(
        self, pattern: str, kind: str | None = None, alive: Callable[[], bool] | None = None
    ) -> Subscription:
        """A new subscription; `alive()` false means its owner is gone (it is then dropped)."""
        if not isinstance(pattern, str) or not pattern:
            raise errors.invalid("events.subscribe: system pattern cannot be empty")
        if kind is not None and not isinstance(kind, str):
            raise errors.invalid("events.subscribe: kind must be a string")
        self._prune()
        sub = Subscription(self, next(self._ids), pattern, kind or None, alive)
        self._subs[sub.id] = sub
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.pop(sub.id, None)

    def get(self, sub_id: int) -> Subscription | None:
        return self._subs.get(sub_id)

    def send(self, system: str, kind: str, path: str, data: Any = None) -> int:
        """Deliver an event to every matching live subscription; returns how many got it.
        `data` must be plain data owned by the bus from now on (it is shared, read-only, by
        the subscribers' queues; Lua receivers get their own copy when they receive)."""
        for name, value in (("system", system), ("kind", kind), ("path", path)):
            if not isinstance(value, str) or not value:
                raise errors.invalid(f"events.send: {name} cannot be empty")
        event = {"system": system, "kind": kind, "path": path, "data": data}
        delivered = 0
        dead = None
        for sub in self._subs.values():
            if not (sub.match_system(system) and sub.match_kind(kind)):
                continue
            if not sub.alive:
                dead = dead or []
                dead.append(sub.id)
                continue
            if len(sub.queue.items) >= self.max_pending:
                sub.dropped += 1
                continue
            sub.queue.put(event)
            delivered += 1
        if dead:
            for sub_id in dead:
                self._subs.pop(sub_id, None)
        return delivered

    def _prune(self) -> None:
        dead = [sub_id for sub_id, sub in self._subs.items() if not sub.alive]
        for sub_id in dead:
            del self._subs[sub_id]


_BUSES: weakref.WeakKeyDictionary[Any, EventBus] = weakref.WeakKeyDictionary()


def bus_for(node: Any) -> EventBus:
    """The event bus of `node`, created on first use."""
    bus = _BUSES.get(node)
    if bus is None:
        bus = _BUSES[node] = EventBus()
    return bus


def _string(value: Any) -> Any:
    if type(value) is bytes:
        return value.decode("utf-8", "surrogateescape")
    return value


class EventsFunctions:
    def __init__(self, host: ModuleHost) -> None:
        self.host = host

    @property
    def bus(self) -> EventBus:
        return bus_for(self.host.node)

    @nil_on_error
    def subscribe(self, pattern: Any = None, kind: Any = None) -> tuple[int, Channel]:
        """`(id, channel)` or `(nil, err)`; `events.lua` wraps the pair in a Subscription."""
        if pattern is not None and not isinstance(pattern, bytes | str):
            raise errors.invalid(
                f"events.subscribe: system pattern must be a string, got {lua_type_name(pattern)}"
            )
        if kind is not None and not isinstance(kind, bytes | str):
            raise errors.invalid(
                f"events.subscribe: kind must be a string, got {lua_type_name(kind)}"
            )
        process = self.host.current
        owner = weakref.ref(process)
        sub = self.bus.subscribe(
            _string(pattern) if pattern is not None else "",
            _string(kind),
            lambda: (p := owner()) is not None and p.alive,
        )
        return sub.id, Channel(source=sub.queue, convert=self.host.lua)

    def unsubscribe(self, sub_id: Any) -> bool:
        bus = self.bus
        sub = bus.get(sub_id) if isinstance(sub_id, int) else None
        if sub is None:
            return False
        bus.unsubscribe(sub)
        return True

    @nil_on_error
    def send(
        self, system: Any = None, kind: Any = None, path: Any = None, data: Any = None
    ) -> bool:
        for name, value in (("system", system), ("kind", kind), ("path", path)):
            if not isinstance(value, bytes | str) or not value:
                raise errors.invalid(f"events.send: {name} cannot be empty")
        payload = from_lua(data)
        self.bus.send(_string(system), _string(kind), _string(path), payload)
        return True


def _functions(host: ModuleHost) -> dict[str, Any]:
    fns = EventsFunctions(host)
    return {"subscribe": fns.subscribe, "unsubscribe": fns.unsubscribe, "send": fns.send}


MODULE = LuaModule("events", _functions)
