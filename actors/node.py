"""The Node: owns the hosts and routes every process operation by PID.

Processes never talk to a host directly. They ask the Node, which resolves names, checks
topics, copies values at the sender (so a value that cannot cross fails there, with a clear
error) and hands the operation to the host that owns the target. Hosts report exits back
through the Node, so a local process can watch a workflow and the reverse without either
host knowing the other.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup

from actors.errors import ActorError, Error, invalid, not_found, process_not_found
from actors.host import Host, SpawnRequest
from actors.mailbox import check_topic
from actors.messages import Event, Message, exit_event
from actors.names import LOCAL, NameRegistry
from actors.pid import PID, new_incarnation
from actors.values import copy_value

if TYPE_CHECKING:
    from actors.cluster import Cluster, ClusterSettings

log = logging.getLogger(__name__)


class Node:
    def __init__(
        self,
        name: str = "",
        shutdown_grace: float = 5.0,
        *,
        incarnation: str | None = None,
        cluster: ClusterSettings | None = None,
    ) -> None:
        self.cluster: Cluster | None = None
        if cluster is not None:
            from actors.cluster import Cluster

            name = cluster.node
            self.cluster = Cluster(self, cluster)
        self.name = name
        self.incarnation = new_incarnation() if incarnation is None else incarnation
        """This boot of the node: part of every local PID (`actors.pid.new_incarnation`)."""
        self.names = NameRegistry()
        self.shutdown_grace = shutdown_grace
        self._hosts: dict[str, Host] = {}
        self._routes: dict[str, Host] = {}
        self._task_group: TaskGroup | None = None

    # -- hosts and routing ----------------------------------------------------------------

    def add_host(self, host: Host, *, node_route: str | None = None) -> Host:
        """Register `host` under its name; `node_route` also routes that PID node part to it
        (a Temporal client is the node part of every workflow PID)."""
        if host.name in self._hosts:
            raise invalid(f"host already registered: {host.name}")
        host.attach(self)
        self._hosts[host.name] = host
        if node_route:
            self._routes[node_route] = host
        if self._task_group is not None:
            self.start_soon(host.start)
        return host

    def host(self, name: str) -> Host:
        """A host of this node by name; `node@host` names a host of another node."""
        host = self._hosts.get(name)
        if host is None:
            node, _, local = name.rpartition("@")
            if node and node != self.name and self.cluster is not None:
                return self.cluster.peer(node)
            host = self._hosts.get(local) if node == self.name else None
        if host is None:
            raise not_found(f"host not found: {name}")
        return host

    @property
    def hosts(self) -> dict[str, Host]:
        return dict(self._hosts)

    def route(self, pid: PID) -> Host | None:
        """The host that owns `pid`, or None when nothing here can reach it."""
        if pid.node and pid.node != self.name:
            host = self._routes.get(pid.node)
            if host is None and self.cluster is not None:
                return self.cluster.remote(pid)
            return host
        return self._hosts.get(pid.host)

    def answers_at_once(self, target: PID | str) -> bool:
        """Whether operations on `target` (a PID, or a host name) complete without suspending
        (a send: `send_work`): its host is in memory, or there is none (they fail at once), so
        a caller on a hot path may drive them synchronously."""
        if isinstance(target, PID):
            host = self.route(target)
        else:
            try:
                host = self.host(target)  # `node@host` is the RemoteNode of that node
            except ActorError:
                return True
        if host is None:
            return True
        return host.in_memory

    def resolve(self, dest: str | PID) -> PID:
        """A PID string, a PID or a registered name; raises `Invalid` / `NotFound`.

        A string in braces that does not parse as a PID (two `|`, say) is treated as a name,
        as lua-api §1.2 chooses; since no name can look like a PID (`register`), it fails
        with `could not resolve: <string>` rather than with a parse error.
        """
        if isinstance(dest, PID):
            return dest
        if not isinstance(dest, str) or not dest:
            raise invalid("destination must be a PID or a registered name")
        if PID.is_pid_string(dest):
            try:
                return PID.parse(dest)
            except ActorError:
                pass
        return self.lookup(dest)

    def lookup(self, name: str) -> PID:
        """A registered name: cluster names first (they shadow local ones, lua-api §1.3)."""
        if self.cluster is not None:
            pid = self.cluster.names.lookup(name)
            if pid is not None:
                return pid
        return self.names.lookup(name)

    def _is_local(self, pid: PID) -> bool:
        return not pid.node or pid.node == self.name

    def _owner(self, pid: PID) -> Host:
        host = self.route(pid)
        if host is None:
            raise process_not_found(pid)
        return host

    # -- operations -------------------------------------------------------------------------

    async def send(
        self,
        sender: PID | None,
        dest: str | PID,
        topic: str,
        payload: Any = None,
        *,
        private: bool = False,
    ) -> None:
        """Send one message. `private=True` means the caller already made a fresh copy."""
        check_topic(topic)
        target = dest if type(dest) is PID else self.resolve(dest)
        work, _ = self.send_work(sender, target, topic, payload if private else copy_value(payload))
        await work

    def send_work(
        self, sender: PID | None, target: PID, topic: str, payload: Any
    ) -> tuple[Coroutine[Any, Any, None], bool]:
        """The send of a checked topic and a private payload to `target`, routed once: the
        host's operation, and whether it completes without suspending (`immediate_send`),
        so a caller on a hot path (`process.send` from Lua) may drive it synchronously."""
        host = self.route(target)
        if host is None:
            raise process_not_found(target)
        return host.send(target, Message(topic, payload, sender)), host.immediate_send

    async def spawn(self, host_name: str, request: SpawnRequest) -> PID:
        """Spawn on a host of this node, or on `node@host` of another node."""
        node, _, local = host_name.rpartition("@")
        if node and node != self.name and self.cluster is not None:
            return await self.cluster.peer(node).spawn_on(local, request)
        return await self.host(host_name).spawn(request)

    async def terminate(self, requester: PID | None, dest: str | PID) -> None:
        target = self.resolve(dest)
        await self._owner(target).terminate(target, requester)

    async def cancel(self, requester: PID, dest: str | PID, reason: str = "") -> None:
        target = self.resolve(dest)
        await self._owner(target).cancel(target, requester, reason)

    async def monitor(self, watcher: PID, dest: str | PID) -> None:
        """Monitoring a dead or unknown PID succeeds and queues EXIT (NotFound) at once,
        as Erlang's `noproc`, so "spawn, then monitor" has no race."""
        target = self.resolve(dest)
        host = self.route(target)
        if host is None:
            self.deliver_event(watcher, exit_event(target, error=process_not_found(target).error))
            return
        # Track before asking the target's host: an EXIT it delivers at once (dead target)
        # must find the record to clear, or the watcher would keep it forever.
        self.track_monitor(watcher, target)
        try:
            await host.monitor(target, watcher)
        except BaseException:
            self.untrack_monitor(watcher, target)
            raise

    async def unmonitor(self, watcher: PID, dest: str | PID) -> None:
        target = self.resolve(dest)
        host = self.route(target)
        if host is not None:
            host.unmonitor(target, watcher)
        self.untrack_monitor(watcher, target)

    def track_monitor(self, watcher: PID, target: PID) -> None:
        """`watcher` now monitors `target`: its host records it (to clean up on exit)."""
        host = self.route(watcher)
        if host is not None:
            host.track_monitor(watcher, target)

    def untrack_monitor(self, watcher: PID, target: PID) -> None:
        host = self.route(watcher)
        if host is not None:
            host.untrack_monitor(watcher, target)

    async def link(self, peer: PID, dest: str | PID) -> None:
        """Bidirectional: each side's host records the other. Linking a dead PID fails with
        `NotFound`, since there is no exit left to propagate."""
        target = self.resolve(dest)
        if target == peer:
            return
        # This node's side first: an exit another node reports once it has linked must find
        # the link here already.
        first, second = (peer, target) if self._is_local(peer) else (target, peer)
        await self._owner(first).link(first, second)
        try:
            await self._owner(second).link(second, first)
        except BaseException:
            self._owner(first).unlink(first, second)
            raise

    async def hold_link(self, holder: PID, peer: PID) -> None:
        """Record `peer` on `holder`'s side of a link only. For links whose other side is
        kept by the peer's host in its own way (a workflow's watch, temporal_host)."""
        host = self.route(holder)
        if host is not None:
            await host.link(holder, peer)

    async def unlink(self, peer: PID, dest: str | PID) -> None:
        target = self.resolve(dest)
        for side, other in ((target, peer), (peer, target)):
            host = self.route(side)
            if host is not None:
                host.unlink(side, other)

    # -- exits ------------------------------------------------------------------------------

    async def wait_exit(self, pid: PID) -> Event:
        """The EXIT event of `pid`, for code that is not a process (exec, CLI, tests)."""
        return await self._owner(pid).wait_exit(pid)

    def spawn_call(
        self,
        host_name: str,
        request: SpawnRequest,
        on_exit: Callable[[Event], None],
        at_once: bool = False,
    ) -> tuple[PID, Callable[[], None]]:
        """Spawn on in-memory host `host_name` for a caller that waits for the exit (a
        function call, a Temporal activity), without suspending: `Host.spawn_call`."""
        return self.host(host_name).spawn_call(request, on_exit, at_once)

    def on_exit(self, pid: PID, callback: Callable[[Event], None]) -> Callable[[], None] | None:
        """Call `callback(exit event)` synchronously when `pid` exits, when its host can
        (in-memory hosts). None when it cannot or `pid` is not alive; otherwise a function
        that withdraws the registration."""
        host = self.route(pid)
        return host.on_exit(pid, callback) if host is not None else None

    # -- names ------------------------------------------------------------------------------

    def register(self, name: str, pid: PID, scope: int = LOCAL) -> None:
        """A name on this node (every scope, when the node is not in a cluster)."""
        self._check_name(name, pid)
        self.names.register(name, pid, scope)

    async def claim(self, name: str, pid: PID, scope: int = LOCAL) -> None:
        """`register` in any scope: in a cluster, EVENTUAL, CONSISTENT and STRONG names are
        cluster-wide (`actors.cluster.names`); without one every scope is local."""
        if scope == LOCAL or self.cluster is None:
            self.register(name, pid, scope)
            return
        self._check_name(name, pid)
        await self.cluster.names.register(name, pid, scope)

    def unregister(self, name: str, scope: int | None = None) -> bool:
        if self.cluster is not None:
            done = self.cluster.names.unregister(name, scope)
            if done is not None:
                return done
        return self.names.unregister(name, scope)

    def _check_name(self, name: str, pid: PID) -> None:
        if not isinstance(name, str) or not name:
            raise invalid("name cannot be empty")
        if PID.is_pid_string(name):
            raise invalid(f"a name cannot look like a PID: {name}")
        host = self.route(pid)
        if host is None or not host.is_alive(pid):
            raise process_not_found(pid)

    # -- reports from hosts -----------------------------------------------------------------

    def deliver_event(self, target: PID, event: Event) -> None:
        host = self.route(target)
        if host is not None:
            host.deliver_event(target, event)

    def link_down(self, target: PID, source: PID, error: Error) -> None:
        host = self.route(target)
        if host is not None:
            host.link_down(target, source, error)

    def link_released(self, target: PID, source: PID) -> None:
        host = self.route(target)
        if host is not None:
            host.link_released(target, source)

    def forget_monitor(self, target: PID, watcher: PID) -> None:
        """The watcher exited: the target's host may drop its record."""
        host = self.route(target)
        if host is not None:
            host.unmonitor(target, watcher)

    def process_exited(self, pid: PID) -> None:
        self.names.release(pid)
        if self.cluster is not None:
            self.cluster.names.release(pid)

    # -- lifecycle --------------------------------------------------------------------------

    def start_soon(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        if self._task_group is None:
            raise RuntimeError("the node is not running: use `async with Node() as node`")
        self._task_group.start_soon(fn, *args)

    async def __aenter__(self) -> Node:
        if self.cluster is not None:
            await self.cluster.start()
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        for host in list(self._hosts.values()):
            await host.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        with anyio.CancelScope(shield=True):
            await self.shutdown()
        self._task_group.cancel_scope.cancel()
        # Forgotten only once it has ended: a host whose `start` is still queued (a boot that
        # failed half-way) may start its task, which the cancelled group ends at once.
        try:
            return await self._task_group.__aexit__(exc_type, exc, tb)
        finally:
            self._task_group = None

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop hosts in reverse order of registration: CANCEL first, then terminate."""
        grace = self.shutdown_grace if grace is None else grace
        for host in reversed(list(self._hosts.values())):
            try:
                await host.stop(grace if math.isfinite(grace) else 3600.0)
            except Exception:
                log.exception("host %s failed to stop cleanly", host.name)
        if self.cluster is not None:
            await self.cluster.stop()
