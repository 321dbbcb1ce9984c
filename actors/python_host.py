"""A local host whose process behaviours are Python coroutine functions.

A behaviour is `async def behaviour(ctx, *args)`: it returns its result or raises. It runs as
an anyio task; `ctx` (a `ProcessContext`) is its whole view of the world, the same operations
a Lua process has. Used by the demo, the benchmarks and the property tests, and a template
for any host that runs code in this Python process.
"""

from __future__ import annotations

import asyncio
import functools
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import attrs

from actors import errors
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from actors.local_host import LocalHostBase, LocalProcess
from actors.mailbox import Mailbox, MailQueue
from actors.messages import Event, Message
from actors.names import LOCAL
from actors.node import Node
from actors.pid import PID
from actors.values import copy_value

__all__ = ["Behaviour", "Channel", "ProcessContext", "PythonHost"]

Behaviour = Callable[..., Awaitable[Any]]

_CHECKPOINT_EVERY = 64
"""Receives that find an item ready do not suspend; every Nth one yields to the loop anyway
so a busy process cannot starve the others or ignore cancellation."""


@attrs.define(eq=False)
class PythonProcess(LocalProcess):
    mailbox: Mailbox = attrs.field(factory=Mailbox)
    behaviour: Behaviour | None = None
    scope: anyio.CancelScope | None = None


async def _wait_for_item(queue: MailQueue) -> None:
    """Park until `queue.put` calls the waiter.

    On asyncio (the backend Temporal needs) a bare future is about three times cheaper than
    an `anyio.Event`, and this is the hot path of every receive; other backends use the
    portable event.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        future = loop.create_future()
        queue.waiter = functools.partial(_wake, future)
        try:
            await future
        finally:
            queue.waiter = None
    else:
        ready = anyio.Event()
        queue.waiter = ready.set
        await ready.wait()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Channel:
    """An awaitable view of one mailbox queue (inbox, events or a `listen` topic)."""

    __slots__ = ("_budget", "queue")

    def __init__(self, queue: MailQueue) -> None:
        self.queue = queue
        self._budget = _CHECKPOINT_EVERY

    async def receive(self) -> Any:
        queue = self.queue
        if queue.items:
            self._budget -= 1
            if self._budget <= 0:
                self._budget = _CHECKPOINT_EVERY
                await anyio.lowlevel.checkpoint()
        while not queue.items:
            await _wait_for_item(queue)
        item = queue.items.popleft()
        return item.payload if queue.raw else item

    def receive_nowait(self) -> Any:
        """The next item, or raise `anyio.WouldBlock`."""
        if not self.queue.items:
            raise anyio.WouldBlock
        item = self.queue.items.popleft()
        return item.payload if self.queue.raw else item

    def __len__(self) -> int:
        return len(self.queue)


class ProcessContext:
    """What a Python behaviour can do: the process API of lua-api §4, in Python."""

    def __init__(self, host: PythonHost, process: PythonProcess) -> None:
        self._host = host
        self._process = process
        self._channels: dict[int, Channel] = {}
        self.pid: PID = process.pid
        self.node: Node = host.node

    # -- mailbox ----------------------------------------------------------------------------

    def _channel(self, queue: MailQueue) -> Channel:
        channel = self._channels.get(id(queue))
        if channel is None:
            channel = self._channels[id(queue)] = Channel(queue)
        return channel

    def inbox(self) -> Channel:
        return self._channel(self._process.mailbox.inbox())

    def events(self) -> Channel:
        return self._channel(self._process.mailbox.events())

    def listen(self, topic: str, *, message: bool = False) -> Channel:
        return self._channel(self._process.mailbox.listen(topic, raw=not message))

    def unlisten(self, channel: Channel) -> None:
        self._process.mailbox.unlisten(channel.queue)

    async def receive(self) -> Message:
        message: Message = await self.inbox().receive()
        return message

    async def next_event(self) -> Event:
        event: Event = await self.events().receive()
        return event

    # -- options ----------------------------------------------------------------------------

    @property
    def trap_links(self) -> bool:
        return self._process.trap_links

    @trap_links.setter
    def trap_links(self, value: bool) -> None:
        self._process.trap_links = bool(value)

    @property
    def context(self) -> dict[str, Any]:
        return self._process.context

    # -- operations -------------------------------------------------------------------------

    async def _dead(self) -> None:
        """Refuse to act for a process that is already dead.

        A process killed by its own call (terminating itself, or a cascade it set off) is
        dead at once, yet its code runs on until it next suspends. Without this check it
        could still send, link or spawn after its EXIT went out, so a watcher would see a
        message from a process it already saw die. The checkpoint ends the task through its
        cancelled scope; a context used from outside the process gets a `Canceled` error.
        """
        await anyio.lowlevel.checkpoint()
        raise errors.error(errors.CANCELED, f"process {self.pid} is no longer alive")

    async def send(self, dest: str | PID, topic: str, payload: Any = None) -> None:
        if not self._process.alive:
            await self._dead()
        await self.node.send(self.pid, dest, topic, payload)

    async def spawn(
        self,
        target: Any,
        *args: Any,
        host: str | None = None,
        monitor: bool = False,
        link: bool = False,
        name: str | None = None,
        messages: tuple[tuple[str, Any], ...] = (),
        context: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> PID:
        if not self._process.alive:
            await self._dead()
        request = SpawnRequest(
            target=target,
            args=tuple(copy_value(list(args))),
            parent=self.pid,
            monitor=monitor,
            link=link,
            name=name,
            messages=messages,
            context={**self._process.context, **(context or {})},
            options=options or {},
        )
        return await self.node.spawn(host or self._host.host_for(target), request)

    async def terminate(self, dest: str | PID) -> None:
        if not self._process.alive:
            await self._dead()
        await self.node.terminate(self.pid, dest)

    async def cancel(self, dest: str | PID, reason: str = "") -> None:
        if not self._process.alive:
            await self._dead()
        await self.node.cancel(self.pid, dest, reason)

    async def monitor(self, dest: str | PID) -> None:
        if not self._process.alive:
            await self._dead()
        await self.node.monitor(self.pid, dest)

    async def unmonitor(self, dest: str | PID) -> None:
        if not self._process.alive:
            await self._dead()
        await self.node.unmonitor(self.pid, dest)

    async def link(self, dest: str | PID) -> None:
        if not self._process.alive:
            await self._dead()
        await self.node.link(self.pid, dest)

    async def unlink(self, dest: str | PID) -> None:
        if not self._process.alive:
            await self._dead()
        await self.node.unlink(self.pid, dest)

    def register(self, name: str, scope: int = LOCAL) -> None:
        self.node.register(name, self.pid, scope)

    def lookup(self, name: str) -> PID:
        return self.node.names.lookup(name)

    def unregister(self, name: str) -> bool:
        return self.node.names.unregister(name)


class PythonHost(LocalHostBase):
    """Runs Python behaviours, each as an anyio task in the node's task group.

    `default_host(target)` names the host of a spawn that names none (an app sets it so an
    entry id runs where its kind says); without it, everything spawns on this host.
    """

    def __init__(
        self,
        name: str,
        max_processes: int | None = None,
        *,
        default_host: Callable[[Any], str] | None = None,
    ) -> None:
        super().__init__(name, max_processes)
        self._default_host = default_host

    def host_for(self, target: Any) -> str:
        if callable(target) or self._default_host is None:
            return self.name
        return self._default_host(target)

    def _create(self, pid: PID, request: SpawnRequest) -> PythonProcess:
        if not callable(request.target):
            raise errors.invalid(f"host {self.name} runs Python behaviours, got {request.target!r}")
        return PythonProcess(pid, context=dict(request.context), behaviour=request.target)

    def _run(self, process: LocalProcess, request: SpawnRequest) -> None:
        self.node.start_soon(self._main, process, request.args)

    def _halt(self, process: LocalProcess) -> None:
        assert isinstance(process, PythonProcess)
        if process.scope is not None:
            process.scope.cancel()

    async def _main(self, process: PythonProcess, args: tuple[Any, ...]) -> None:
        if not process.alive:
            return
        assert process.behaviour is not None
        value: Any = None
        error: Error | None = None
        with anyio.CancelScope() as scope:
            process.scope = scope
            try:
                value = copy_value(await process.behaviour(ProcessContext(self, process), *args))
            except ActorError as exc:
                error = exc.error
            except Exception as exc:
                stack = "".join(traceback.format_exception(exc))
                error = attrs.evolve(errors.as_error(exc), stack=stack)
        if scope.cancelled_caught and process.alive:
            error = error or Error("process cancelled", errors.CANCELED, False)
        self._exit(process, value, error)
