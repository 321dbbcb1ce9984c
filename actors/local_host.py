"""What every in-memory host shares: the process table, monitors, links, exits and cascades.

The Python host and the Lua host differ only in how they run a process's code; everything
Erlang-shaped lives here once. Exits are applied synchronously and through a queue: when a
process dies, its monitors get EXIT and its links are told before the call that killed it
returns, and a long chain of linked processes cascades without deep recursion.
"""

from __future__ import annotations

import abc
import functools
import logging
from collections import deque
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any, Literal

import anyio
import attrs

from actors import errors
from actors.errors import Error, process_not_found
from actors.exits import (
    LinkDown,
    Source,
    cascade_error,
    monitor_event,
    notify_exit,
    on_link_down,
    terminated_error,
)
from actors.host import Host, SpawnRequest
from actors.mailbox import Deliveries, Mailbox, check_topic
from actors.messages import EXIT, Event, Message, cancel_event, link_down_event
from actors.pid import PID, SYSTEM, local_id
from actors.run_at_once import run_sync
from actors.values import copy_value

log = logging.getLogger(__name__)


class _NoPids(frozenset[PID]):
    """The empty relation every process starts with: an empty set (216 bytes) and an object
    for the collector to scan, three times per process, saved until the first link or
    monitor. Discarding from it does nothing, as from any set that lacks the PID."""

    def discard(self, pid: PID) -> None:
        pass

    def add(self, pid: PID) -> None:
        raise TypeError(
            "a process's links, watchers and watching change through LocalProcess.relate "
            "and LocalProcess.discard"
        )


NO_PIDS: AbstractSet[PID] = _NoPids()
Relation = Literal["links", "watchers", "watching"]


@attrs.define(eq=False)
class LocalProcess:
    """Bookkeeping for one live process. Subclasses add how its code runs.

    `links`, `watchers` and `watching` are read as sets; they change through `relate`
    (which makes the set on first use) and `discard`."""

    pid: PID
    mailbox: Deliveries = attrs.field(factory=Mailbox)
    context: dict[str, Any] = attrs.field(factory=dict)
    trap_links: bool = False
    links: AbstractSet[PID] = NO_PIDS
    watchers: AbstractSet[PID] = NO_PIDS
    watching: AbstractSet[PID] = NO_PIDS
    alive: bool = True

    def relate(self, kind: Relation, *pids: PID) -> None:
        """Add `pids` to this process's `kind` relation."""
        if not pids:
            return
        current = getattr(self, kind)
        if current is NO_PIDS:
            setattr(self, kind, set(pids))
        else:
            current.update(pids)

    def discard(self, kind: Relation, pid: PID) -> None:
        """Remove `pid` from this process's `kind` relation, if it is there."""
        getattr(self, kind).discard(pid)


class LocalHostBase(Host):
    """A host whose processes live in this Python process.

    Subclasses implement `_create` (make the process record), `_run` (start its code) and
    `_halt` (stop its code after it has been marked dead) and call `_exit` when the code
    ends by itself.
    """

    in_memory = True

    def __init__(self, name: str, max_processes: int | None = None) -> None:
        self.name = name
        self.max_processes = max_processes
        self.processes: dict[PID, LocalProcess] = {}
        self._counter = 0
        self._dying: deque[tuple[LocalProcess, Any, Error | None]] = deque()
        self._draining = False
        self._idle: anyio.Event | None = None
        self._exit_waiters: dict[PID, list[Callable[[Event], None]]] = {}

    # -- subclass hooks ---------------------------------------------------------------------

    @abc.abstractmethod
    def _create(self, pid: PID, request: SpawnRequest) -> LocalProcess: ...

    @abc.abstractmethod
    def _run(self, process: LocalProcess, request: SpawnRequest) -> None: ...

    @abc.abstractmethod
    def _halt(self, process: LocalProcess) -> None:
        """Stop the code of a process already marked dead (terminate or cascade)."""

    # -- spawning ---------------------------------------------------------------------------

    def new_pid(self) -> PID:
        self._counter += 1
        node = self.node
        return PID(self.name, local_id(self._counter, node.incarnation), node.name)

    async def spawn(self, request: SpawnRequest) -> PID:
        if self.max_processes is not None and len(self.processes) >= self.max_processes:
            raise errors.error(
                errors.UNAVAILABLE, f"host {self.name} is at max_processes={self.max_processes}"
            )
        # Startup messages are checked and copied before the process exists: failing later
        # would leave a registered, linked, monitored process that never runs.
        startup = [
            Message(check_topic(topic), copy_value(payload), request.parent)
            for topic, payload in request.messages
        ]
        pid = self.new_pid()
        process = self._create(pid, request)
        self.processes[pid] = process
        try:
            if request.name is not None:
                self.node.register(request.name, pid)
            parent = request.parent
            if parent is not None and request.link:
                await self.node.link(parent, pid)
            if parent is not None and request.monitor:
                await self.node.monitor(parent, pid)
        except BaseException:
            del self.processes[pid]
            self.node.process_exited(pid)
            raise
        for message in startup:
            process.mailbox.deliver(message)
        self._run(process, request)
        return pid

    # -- operations from the node -----------------------------------------------------------

    def _live(self, pid: PID) -> LocalProcess:
        process = self.processes.get(pid)
        if process is None:
            raise process_not_found(pid)
        return process

    def is_alive(self, pid: PID) -> bool:
        return pid in self.processes

    async def send(self, target: PID, message: Message) -> None:
        self._live(target).mailbox.deliver(message)

    async def terminate(self, target: PID, requester: PID | None) -> None:
        self.kill(self._live(target), terminated_error())

    async def cancel(self, target: PID, requester: PID, reason: str) -> None:
        self._live(target).mailbox.deliver_event(cancel_event(requester, reason))

    async def monitor(self, target: PID, watcher: PID) -> None:
        process = self.processes.get(target)
        if process is None:
            self.node.deliver_event(
                watcher, monitor_event(target, None, process_not_found(target).error)
            )
        else:
            process.relate("watchers", watcher)

    def unmonitor(self, target: PID, watcher: PID) -> None:
        process = self.processes.get(target)
        if process is not None:
            process.discard("watchers", watcher)

    def track_monitor(self, watcher: PID, target: PID) -> None:
        process = self.processes.get(watcher)
        if process is not None:
            process.relate("watching", target)

    def untrack_monitor(self, watcher: PID, target: PID) -> None:
        process = self.processes.get(watcher)
        if process is not None:
            process.discard("watching", target)

    async def link(self, target: PID, peer: PID) -> None:
        self._live(target).relate("links", peer)

    def unlink(self, target: PID, peer: PID) -> None:
        process = self.processes.get(target)
        if process is not None:
            process.discard("links", peer)

    def deliver_event(self, target: PID, event: Event) -> None:
        process = self.processes.get(target)
        if process is not None:
            if event.kind == EXIT:
                # An EXIT ends the monitor; without this a long-lived supervisor would keep
                # every child it ever monitored in `watching`.
                process.discard("watching", event.source)
            process.mailbox.deliver_event(event)

    def link_down(self, target: PID, source: PID, error: Error) -> None:
        process = self.processes.get(target)
        if process is None or source not in process.links:
            return
        process.discard("links", source)
        if on_link_down(process.trap_links) is LinkDown.TRAP:
            process.mailbox.deliver_event(link_down_event(source, error))
        else:
            self.kill(process, cascade_error(source, error))

    def link_released(self, target: PID, source: PID) -> None:
        process = self.processes.get(target)
        if process is not None:
            process.discard("links", source)

    # -- exits ------------------------------------------------------------------------------

    def kill(self, process: LocalProcess, error: Error) -> None:
        """Forced exit (terminate, cascade): dead at once, its code stopped afterwards."""
        if process.alive:
            self._exit(process, None, error)
            self._halt(process)

    def _exit(self, process: LocalProcess, value: Any, error: Error | None) -> None:
        """Record the exit and tell everyone who asked; idempotent.

        `value` must already be a private copy: the first watcher receives it as is.
        """
        if not process.alive:
            return
        process.alive = False
        self._dying.append((process, value, error))
        if self._draining:
            return
        self._draining = True
        try:
            while self._dying:
                self._notify(*self._dying.popleft())
        finally:
            self._draining = False

    def _notify(self, process: LocalProcess, value: Any, error: Error | None) -> None:
        pid = process.pid
        self.processes.pop(pid, None)
        node = self.node
        node.process_exited(pid)
        for target in process.watching:
            node.forget_monitor(target, pid)
        # The first receiver takes the copy the host already made when the process returned.
        notify_exit(
            node,
            pid,
            value,
            error,
            source=Source.PROCESS,
            monitors=process.watchers,
            links=process.links,
            value_is_private=True,
        )
        self._tell_exit_waiters(pid, value, error)
        if not self.processes and self._idle is not None:
            self._idle.set()

    def _tell_exit_waiters(self, pid: PID, value: Any, error: Error | None) -> None:
        """The callbacks `on_exit` and `spawn_call` registered for `pid`, each with its own copy."""
        for callback in self._exit_waiters.pop(pid, ()):
            callback(monitor_event(pid, copy_value(value), error))

    def spawn_call(
        self, request: SpawnRequest, on_exit: Callable[[Event], None], at_once: bool = False
    ) -> tuple[PID, Callable[[], None]]:
        """Spawn `request` for a caller that waits for its exit (a function call, a Temporal
        activity): `on_exit(EXIT event)` is called when it exits, as with `on_exit`.
        Completes without suspending; the process runs when the host next runs its code, so
        the callback is in place before (`at_once` is for hosts that can run it sooner).
        (PID, a function that withdraws the callback)."""
        pid = run_sync(self.spawn(request))
        withdraw = self.on_exit(pid, on_exit)
        if withdraw is None:  # nothing of the process has run yet
            raise RuntimeError(f"{pid} exited before its spawn returned")
        return pid, withdraw

    def on_exit(self, pid: PID, callback: Callable[[Event], None]) -> Callable[[], None] | None:
        """Call `callback(event)` with the EXIT event of `pid` when it exits, synchronously
        and without an event-loop task (function calls wait this way). None when `pid` is not
        alive here; otherwise a function that withdraws the registration."""
        if pid not in self.processes:
            return None
        return self._wait_exit_of(pid, callback)

    def _wait_exit_of(self, pid: PID, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Register `callback` for `pid`'s exit; returns what withdraws it."""
        self._exit_waiters.setdefault(pid, []).append(callback)
        return functools.partial(self._withdraw_exit_waiter, pid, callback)

    def _withdraw_exit_waiter(self, pid: PID, callback: Callable[[Event], None]) -> None:
        callbacks = self._exit_waiters.get(pid)
        if callbacks and callback in callbacks:
            callbacks.remove(callback)

    async def wait_exit(self, pid: PID) -> Event:
        """The EXIT event of `pid`, for code outside any process (CLI, tests, benchmarks)."""
        done = anyio.Event()
        outcome: list[Event] = []

        def record(event: Event) -> None:
            outcome.append(event)
            done.set()

        if self.on_exit(pid, record) is None:
            return monitor_event(pid, None, process_not_found(pid).error)
        await done.wait()
        return outcome[0]

    # -- shutdown ---------------------------------------------------------------------------

    async def stop(self, grace: float) -> None:
        """CANCEL every process (sender `{|topology}`), wait up to `grace`, then terminate."""
        if not self.processes:
            return
        for process in list(self.processes.values()):
            process.mailbox.deliver_event(cancel_event(SYSTEM, "shutdown"))
        self._idle = anyio.Event()
        with anyio.move_on_after(grace):
            await self._idle.wait()
        for process in list(self.processes.values()):
            self.kill(process, terminated_error())
        if self.processes:
            log.warning("host %s: %d processes did not stop", self.name, len(self.processes))
