"""The Host contract: what every backend (local Python, Lua, Temporal) implements.

The Node routes each operation by PID to the host that owns the target; the host applies it
to its own processes and reports outcomes back through the Node (`Node.deliver_event`,
`Node.link_down`, `Node.link_released`), so hosts never call each other directly. Every
operation is async because a remote host (Temporal) needs I/O; in-memory hosts just never
suspend.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from actors.errors import invalid
from actors.messages import Event, Message
from actors.pid import PID

if TYPE_CHECKING:
    from actors.errors import Error
    from actors.node import Node


@attrs.frozen
class SpawnRequest:
    """Everything a host needs to start a process.

    `target` is what to run: an entry ID for Lua and Temporal hosts, a behaviour for the
    Python host. Monitors and links asked for here are in place before the child runs its
    first instruction, and `messages` are delivered before anything sent later.
    """

    target: Any
    args: tuple[Any, ...] = ()
    parent: PID | None = None
    monitor: bool = False
    link: bool = False
    name: str | None = None
    messages: tuple[tuple[str, Any], ...] = ()
    context: dict[str, Any] = attrs.field(factory=dict)
    options: dict[str, Any] = attrs.field(factory=dict)


class Host(abc.ABC):
    """A place processes run. `name` is the host part of the PIDs it hands out."""

    name: str
    node: Node
    in_memory: bool = False
    """True when every operation completes without suspending (local hosts), so callers on a
    hot path may drive them synchronously."""

    @property
    def immediate_send(self) -> bool:
        """True when `send` completes without suspending, even if other operations may."""
        return self.in_memory

    def attach(self, node: Node) -> None:
        self.node = node

    async def start(self) -> None:
        """Called once the node's task group runs; start background work here."""

    async def stop(self, grace: float) -> None:
        """End every process: CANCEL first, terminate what is left after `grace` seconds."""

    @abc.abstractmethod
    async def spawn(self, request: SpawnRequest) -> PID: ...

    @abc.abstractmethod
    async def send(self, target: PID, message: Message) -> None:
        """Deliver to a live process; `NotFound` ("... not found") when it is not alive."""

    @abc.abstractmethod
    async def terminate(self, target: PID, requester: PID | None) -> None:
        """Forced, abnormal exit: monitors see EXIT with a `Canceled` error."""

    @abc.abstractmethod
    async def cancel(self, target: PID, requester: PID, reason: str) -> None:
        """Cooperative: the target gets a CANCEL event and may ignore it."""

    @abc.abstractmethod
    async def monitor(self, target: PID, watcher: PID) -> None:
        """EXIT to `watcher` when `target` exits; immediately (NotFound) if it is dead."""

    @abc.abstractmethod
    def unmonitor(self, target: PID, watcher: PID) -> None:
        """Stop EXIT delivery to `watcher`; after this returns no such EXIT is produced."""

    @abc.abstractmethod
    async def link(self, target: PID, peer: PID) -> None:
        """Record `peer` as linked to `target`; `NotFound` when `target` is not alive."""

    @abc.abstractmethod
    def unlink(self, target: PID, peer: PID) -> None:
        """Forget `peer` on `target`'s side (the Node calls it for both sides)."""

    @abc.abstractmethod
    def deliver_event(self, target: PID, event: Event) -> None:
        """An EXIT or CANCEL for one of this host's processes; dropped if it is gone."""

    @abc.abstractmethod
    def link_down(self, target: PID, source: PID, error: Error) -> None:
        """`source`, linked to `target`, exited abnormally: trap it or die with it."""

    @abc.abstractmethod
    def link_released(self, target: PID, source: PID) -> None:
        """`source`, linked to `target`, exited normally: forget the link."""

    @abc.abstractmethod
    def is_alive(self, pid: PID) -> bool: ...

    async def wait_exit(self, pid: PID) -> Event:
        """The EXIT event of `pid` for code that is not a process (exec, CLI, tests)."""
        raise NotImplementedError

    def spawn_call(
        self, request: SpawnRequest, on_exit: Callable[[Event], None], at_once: bool = False
    ) -> tuple[PID, Callable[[], None]]:
        """Spawn for a caller that waits for the exit (a function call, a Temporal activity)
        without suspending, `on_exit(exit event)` called when it exits: (PID, a function
        that withdraws the callback). `at_once`: the caller lets the process run before
        this returns, when the host can (so `on_exit` may come first); a host that cannot
        runs it as usual. Only in-memory hosts can; `Invalid` here."""
        raise invalid(f"host {self.name} cannot run function calls")

    def on_exit(self, pid: PID, callback: Callable[[Event], None]) -> Callable[[], None] | None:
        """Call `callback(exit event)` synchronously when `pid` exits; None when this host
        cannot (only in-memory hosts can) or `pid` is not alive here."""
        return None

    def track_monitor(self, watcher: PID, target: PID) -> None:
        """`watcher` (ours) now monitors `target`; hosts that clean up on exit record it."""

    def untrack_monitor(self, watcher: PID, target: PID) -> None:
        """The reverse of `track_monitor`."""
