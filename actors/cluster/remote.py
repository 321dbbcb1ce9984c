"""`RemoteNode`: another node of the cluster, seen by this one as a Host.

The Node routes an operation on a PID of node `b` to the `RemoteNode` for `b`, exactly as
it routes a local PID to a local host; the remote node turns it into a frame for `b`. All
frames from this node to `b` travel in one ordered stream (one NATS connection, one
subject), so two messages from one sender arrive in the order sent, and an exit reported by
`b` always arrives after the reply that set up the link or monitor it concerns.

Besides forwarding, a `RemoteNode` remembers every relationship between this node's
processes and `b`'s: who here monitors whom there, which processes are linked across, and
who there monitors whom here. When `b` goes down those records become EXIT and LINK_DOWN
events with an `Unavailable` error naming `b` (`node_down`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import OrderedDict, defaultdict, deque
from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import ActorError, Error
from actors.exits import Source, notify_exit
from actors.host import Host, SpawnRequest
from actors.messages import EXIT, Event, Message
from actors.pid import PID
from actors.values import pack_value

if TYPE_CHECKING:
    from actors.cluster.cluster import Cluster

log = logging.getLogger(__name__)

# Frame operations. Frames are msgpack lists `[op, ...]`; PIDs travel as their text.
SEND = 0  # [SEND, sender|None, target, topic, payload]
EVENT = 1  # [EVENT, target, kind, source, value, error, reason, at]
LINK_DOWN = 2  # [LINK_DOWN, target, source, error]
LINK_RELEASED = 3  # [LINK_RELEASED, target, source]
MONITOR = 4  # [MONITOR, target, watcher]
UNMONITOR = 5  # [UNMONITOR, target, watcher]
TRACK = 6  # [TRACK, watcher, target]: the receiver's `watcher` now monitors `target`
UNTRACK = 7  # [UNTRACK, watcher, target]
UNLINK = 8  # [UNLINK, target, peer]
REQUEST = 9  # [REQUEST, id, op, args...]: answered by one REPLY
REPLY = 10  # [REPLY, id, ok, value-or-error]
RESEND = 11  # [RESEND]: batches went missing here, send the unacknowledged ones again
GONE = 12  # [GONE, pid]: a message reached a process that no longer exists

KNOWN_DEAD = 10_000
"""How many dead processes of a node a peer remembers, so sends to them fail at once."""

# Request operations.
LINK = "link"
TERMINATE = "terminate"
CANCEL = "cancel"
SPAWN = "spawn"
SYNC = "sync"

_request_ids = itertools.count(1)


def down_error(name: str, why: str = "is down") -> Error:
    """The error of every EXIT / LINK_DOWN caused by losing node `name`."""
    return Error(f"node {name} {why}", errors.UNAVAILABLE, True, {"node": name})


class RemoteNode(Host):
    """Node `name` (incarnation `incarnation`) as a host of this node."""

    in_memory = False
    immediate_send = True

    def __init__(self, cluster: Cluster, name: str, incarnation: str) -> None:
        self.cluster = cluster
        self.name = name
        self.node_name = name
        self.incarnation = incarnation
        self.node = cluster.node
        self._pub_head = pub_head(cluster.subject(name))
        """The start of every PUB command of our frames to this node."""
        self.alive = True
        self.last_seen = 0.0
        self.watching: defaultdict[PID, set[PID]] = defaultdict(set)
        """Their process -> our processes monitoring it."""
        self.watched: defaultdict[PID, set[PID]] = defaultdict(set)
        """Our process -> their processes monitoring it."""
        self.links: defaultdict[PID, set[PID]] = defaultdict(set)
        """Their process -> our processes linked to it."""
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self._out: list[bytes] = []
        self._batching = False
        """A frame left at once in this pass of the event loop: later ones are batched."""
        self.sent = 0
        """Sequence number of the last batch sent to this node."""
        self.unacknowledged: deque[tuple[int, int, bytes]] = deque()
        """Batches sent but not yet acknowledged by its heartbeats: sent again after a
        reconnection, since NATS may have lost them."""
        self.received = 0
        """Sequence number of the last batch applied from this node."""
        self.early: dict[int, Any] = {}
        """Batches that arrived before a missing one (after a reconnection)."""
        self.resend_asked = 0
        self.dead: OrderedDict[PID, None] = OrderedDict()
        """Its processes we know have exited (told by GONE): sending to one is `NotFound`."""
        """The `received` at which we last asked for the missing batches."""

    def __repr__(self) -> str:
        return f"RemoteNode({self.name}.{self.incarnation})"

    def reaches(self, pid: PID) -> bool:
        """False for a PID of an earlier incarnation of this node: it names no process."""
        return self.alive and (not pid.incarnation or pid.incarnation == self.incarnation)

    # -- the outgoing stream -----------------------------------------------------------------------

    def queue(self, frame: list[Any]) -> None:
        """Pack `frame` and queue it for the writer; `Invalid` when it cannot fit in one
        NATS message (naming the limit), before anything is queued."""
        if not self.alive:
            raise errors.not_found(f"node {self.name} is not in the cluster")
        data = pack_value(frame)
        limit = self.cluster.max_frame
        if len(data) > limit:
            raise errors.invalid(
                f"value too large to cross nodes: {len(data)} bytes, over the NATS max "
                f"payload of {self.cluster.max_payload} bytes"
            )
        self._out.append(data)
        self.cluster.frames_sent += 1
        if not self._batching:
            # The first frame of a pass of the event loop leaves at once: a lone message
            # (a ping-pong, a reply) waits for nothing. Frames queued after it in the same
            # pass leave together at its end.
            self._batching = True
            self.flush()
            asyncio.get_running_loop().call_soon(self._end_batch)

    def _end_batch(self) -> None:
        self._batching = False
        self.flush()

    def flush(self) -> None:
        """Publish what is queued, in as few NATS messages as fit."""
        frames = self._out
        if not frames:
            return
        self._out = []
        if len(frames) == 1:  # a ping-pong, a reply: a batch of its own, no joining
            self._publish(1, frames[0])
            return
        for count, batch in self.cluster.batches(frames):
            self._publish(count, batch)

    def _publish(self, count: int, batch: bytes) -> None:
        self.sent += 1
        self.unacknowledged.append((self.sent, count, batch))
        self._publish_again(self.sent, count, batch)

    def _publish_again(self, seq: int, count: int, batch: bytes) -> None:
        cluster = self.cluster
        cluster.publish_command(pub_command(self._pub_head, cluster.header(seq, count) + batch))

    def acknowledged(self, seq: int) -> None:
        while self.unacknowledged and self.unacknowledged[0][0] <= seq:
            self.unacknowledged.popleft()

    def send_again(self) -> None:
        """After a reconnection: every batch not acknowledged yet (the peer drops those it
        has, so nothing is applied twice)."""
        for seq, count, batch in self.unacknowledged:
            self._publish_again(seq, count, batch)

    async def request(self, op: str, *args: Any) -> Any:
        """Ask node `name` to do `op` and wait for its answer (Unavailable if it goes down)."""
        request_id = next(_request_ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        try:
            self.queue([REQUEST, request_id, op, *args])
            async with asyncio.timeout(self.cluster.settings.request_timeout):
                return await future
        except TimeoutError:
            raise ActorError(down_error(self.name, "did not answer in time")) from None
        finally:
            self.pending.pop(request_id, None)

    def answered(self, request_id: int, ok: bool, value: Any) -> None:
        future = self.pending.get(request_id)
        if future is None or future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(ActorError(value))

    # -- Host operations: our node asks for something on theirs ------------------------------------

    async def spawn(self, request: SpawnRequest) -> PID:
        raise errors.invalid(f"spawn on node {self.name} needs a host: 'node@host'")

    async def spawn_on(self, host: str, request: SpawnRequest) -> PID:
        parent = str(request.parent) if request.parent is not None else None
        context = {k: v for k, v in request.context.items() if not k.startswith("@")}
        text = await self.request(
            SPAWN,
            host,
            request.target,
            list(request.args),
            parent,
            request.monitor,
            request.link,
            request.name,
            [list(m) for m in request.messages],
            context,
            request.options,
        )
        return PID.parse(text)

    async def send(self, target: PID, message: Message) -> None:
        if target in self.dead:
            raise errors.process_not_found(target)
        sender = message.sender
        self.queue(
            [SEND, str(sender) if sender else None, str(target), message.topic, message.payload]
        )

    async def terminate(self, target: PID, requester: PID | None) -> None:
        await self.request(TERMINATE, str(target), str(requester) if requester else None)

    async def cancel(self, target: PID, requester: PID, reason: str) -> None:
        await self.request(CANCEL, str(target), str(requester), reason)

    async def monitor(self, target: PID, watcher: PID) -> None:
        self.watching[target].add(watcher)
        self.queue([MONITOR, str(target), str(watcher)])

    def unmonitor(self, target: PID, watcher: PID) -> None:
        discard(self.watching, target, watcher)
        if self.alive:
            self.queue([UNMONITOR, str(target), str(watcher)])

    async def link(self, target: PID, peer: PID) -> None:
        self.links[target].add(peer)
        try:
            await self.request(LINK, str(target), str(peer))
        except BaseException:
            discard(self.links, target, peer)
            raise

    def unlink(self, target: PID, peer: PID) -> None:
        discard(self.links, target, peer)
        if self.alive:
            self.queue([UNLINK, str(target), str(peer)])

    def track_monitor(self, watcher: PID, target: PID) -> None:
        self.watched[target].add(watcher)
        self.queue([TRACK, str(watcher), str(target)])

    def untrack_monitor(self, watcher: PID, target: PID) -> None:
        discard(self.watched, target, watcher)
        if self.alive:
            self.queue([UNTRACK, str(watcher), str(target)])

    # -- Host operations: our node reports to a process of theirs ----------------------------------

    def deliver_event(self, target: PID, event: Event) -> None:
        if not self.alive:
            return
        if event.kind == EXIT:
            discard(self.watched, event.source, target)
        self.queue(
            [
                EVENT,
                str(target),
                event.kind,
                str(event.source),
                event.value,
                event.error,
                event.reason,
                event.at,
            ]
        )

    def link_down(self, target: PID, source: PID, error: Error) -> None:
        discard(self.links, target, source)
        if self.alive:
            self.queue([LINK_DOWN, str(target), str(source), error])

    def link_released(self, target: PID, source: PID) -> None:
        discard(self.links, target, source)
        if self.alive:
            self.queue([LINK_RELEASED, str(target), str(source)])

    def is_alive(self, pid: PID) -> bool:
        return self.reaches(pid) and pid not in self.dead

    def exited(self, pid: PID) -> None:
        """Node `name` says `pid` is gone: later sends to it fail here, as on one node."""
        self.dead[pid] = None
        if len(self.dead) > KNOWN_DEAD:
            self.dead.popitem(last=False)

    async def wait_exit(self, pid: PID) -> Event:
        raise errors.invalid(
            f"exec on another node ({self.name}) is not supported: spawn_monitored there and "
            "wait for the EXIT"
        )

    # -- losing the node ---------------------------------------------------------------------------

    def node_down(self, error: Error) -> None:
        """Every relationship with the lost node ends: our monitors of its processes get EXIT,
        our links to them LINK_DOWN (or the cascade), its monitors of ours are forgotten."""
        if not self.alive:
            return
        self.alive = False
        self._out.clear()
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ActorError(error))
        node = self.node
        watching, self.watching = self.watching, defaultdict(set)
        links, self.links = self.links, defaultdict(set)
        watched, self.watched = self.watched, defaultdict(set)
        # Each of its processes that ours watch or link to exits with `error`, by the one
        # exit rule every host applies.
        for remote in {*watching, *links}:
            notify_exit(
                node,
                remote,
                None,
                error,
                source=Source.PROCESS,
                monitors=watching.get(remote, ()),
                links=links.get(remote, ()),
            )
        for local, remotes in watched.items():
            host = node.route(local)
            if host is not None:
                for remote in remotes:
                    host.unmonitor(local, remote)


def pub_command(head: bytes, data: bytes) -> bytes:
    """The PUB command of `data` to the subject whose `pub_head(subject)` is `head`: what
    nats-py's `pub_cmd` makes, in one formatting step."""
    return b"%s%d\r\n%s\r\n" % (head, len(data), data)


def pub_head(subject: str) -> bytes:
    """The start of every PUB command to `subject` (no reply subject)."""
    return f"PUB {subject}  ".encode()


def discard(index: defaultdict[PID, set[PID]], key: PID, value: PID) -> None:
    values = index.get(key)
    if values is not None:
        values.discard(value)
        if not values:
            del index[key]
