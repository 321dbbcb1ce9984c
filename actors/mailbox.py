"""A process's mailbox: routes messages between `listen` channels, the inbox and the events.

Routing is decided when a message is delivered: the channel of an exact `listen(topic)`
first, then the earliest matching pattern listener, then the inbox. A message that arrives
before the process opened its inbox or a matching listener is kept in order and routed when
one appears, so nothing is lost because a process subscribed late. Events likewise wait for
`events()`.

Queues do not know how their reader waits. Each has one `waiter` callback, set by whoever
blocks on it (an anyio event for Python processes, the Lua scheduler for Lua processes) and
called once when an item arrives. That keeps the mailbox the same for every host.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from actors.errors import invalid
from actors.messages import Event, Message


class Deliveries(Protocol):
    """What hosts and the exit rule need of a process's mailbox: `Mailbox` for Python
    processes, the Lua kernel's mailbox (`lua_bindings.process.LuaMailbox`) for Lua ones."""

    def deliver(self, message: Message) -> None: ...

    def deliver_event(self, event: Event) -> None: ...

    def pending_messages(self) -> int: ...

    def pending_events(self) -> int: ...


class MailQueue:
    """FIFO of delivered items with a single wake-up callback for a blocked reader.

    `raw` marks a listener that hands out payloads instead of Message objects.
    """

    __slots__ = ("items", "raw", "topic", "waiter")

    def __init__(self, topic: str = "", raw: bool = False) -> None:
        self.items: deque[Any] = deque()
        self.waiter: Callable[[], None] | None = None
        self.topic = topic
        self.raw = raw

    def put(self, item: Any) -> None:
        self.items.append(item)
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            waiter()

    def __len__(self) -> int:
        return len(self.items)


def check_topic(topic: Any, verb: str = "send to") -> str:
    """The topic as text; `Invalid` for what no send can use: a topic that is not a string
    (a number is refused too, whatever the target), an empty one, the reserved `@` ones.
    The one rule of every send path, local or durable (issue 12 item 8)."""
    if type(topic) is str and topic and topic[0] != "@":
        return topic
    if type(topic) is bytes:
        topic = topic.decode("utf-8", "replace")
    if not isinstance(topic, str):
        raise invalid(f"topic must be a string, not {_type_name(topic)}")
    if not topic:
        raise invalid("topic cannot be empty")
    if topic[0] == "@":
        raise invalid(f"cannot {verb} @ topics")
    return topic


def _type_name(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a " + type(value).__name__.removeprefix("_Lua").lower()


class Mailbox:
    __slots__ = ("_events", "_inbox", "_listeners", "_patterns", "_pending", "_pending_events")

    def __init__(self) -> None:
        self._inbox: MailQueue | None = None
        self._events: MailQueue | None = None
        self._listeners: dict[str, MailQueue] = {}
        self._patterns: list[tuple[re.Pattern[str], MailQueue]] = []
        # Made when first needed: most processes open their inbox and events before
        # anything arrives, and an empty deque costs 600 bytes.
        self._pending: deque[Message] | None = None
        self._pending_events: deque[Event] | None = None

    # -- delivery -------------------------------------------------------------------------

    def deliver(self, message: Message) -> None:
        queue = self._route(message.topic)
        if queue is not None:
            queue.put(message)
        elif self._pending is None:
            self._pending = deque((message,))
        else:
            self._pending.append(message)

    def deliver_event(self, event: Event) -> None:
        if self._events is not None:
            self._events.put(event)
        elif self._pending_events is None:
            self._pending_events = deque((event,))
        else:
            self._pending_events.append(event)

    def pending_messages(self) -> int:
        """Messages delivered and not yet taken, in every queue."""
        queues = [*self._listeners.values(), *(queue for _, queue in self._patterns)]
        if self._inbox is not None:
            queues.append(self._inbox)
        return len(self._pending or ()) + sum(len(queue) for queue in queues)

    def pending_events(self) -> int:
        return len(self._pending_events or ()) + (
            len(self._events) if self._events is not None else 0
        )

    def _route(self, topic: str) -> MailQueue | None:
        queue = self._listeners.get(topic)
        if queue is not None:
            return queue
        for pattern, queue in self._patterns:
            if pattern.fullmatch(topic):
                return queue
        return self._inbox

    # -- subscriptions --------------------------------------------------------------------

    def inbox(self) -> MailQueue:
        """The inbox queue, the same object on every call; takes every waiting message."""
        if self._inbox is None:
            self._inbox = MailQueue()
            while self._pending:
                self._inbox.put(self._pending.popleft())
            self._pending = None
        return self._inbox

    def events(self) -> MailQueue:
        if self._events is None:
            self._events = MailQueue()
            while self._pending_events:
                self._events.put(self._pending_events.popleft())
            self._pending_events = None
        return self._events

    def listen(self, topic: str, raw: bool = True) -> MailQueue:
        """The queue for `topic` (the same one for the same topic); `*` is a wildcard."""
        check_topic(topic, "listen to")
        # Explicit `is None` tests: a MailQueue has `__len__`, so an empty one is falsy and
        # `a or b` would replace a live listener with a fresh queue.
        existing = self._listeners.get(topic)
        if existing is None:
            existing = self._pattern_queue(topic)
        if existing is not None:
            return existing
        queue = MailQueue(topic, raw)
        if "*" in topic:
            regex = re.compile(".*".join(re.escape(part) for part in topic.split("*")))
            self._patterns.append((regex, queue))
        else:
            self._listeners[topic] = queue
        self._claim_pending(queue)
        return queue

    def unlisten(self, queue: MailQueue) -> None:
        """Later messages on that topic go to the inbox; what the queue holds stays there."""
        if self._listeners.get(queue.topic) is queue:
            del self._listeners[queue.topic]
        self._patterns = [(p, q) for p, q in self._patterns if q is not queue]

    def _pattern_queue(self, topic: str) -> MailQueue | None:
        for _, queue in self._patterns:
            if queue.topic == topic:
                return queue
        return None

    def _claim_pending(self, queue: MailQueue) -> None:
        if not self._pending:
            return
        keep: deque[Message] = deque()
        for message in self._pending:
            if self._route(message.topic) is queue:
                queue.put(message)
            else:
                keep.append(message)
        self._pending = keep or None
