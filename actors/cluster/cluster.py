"""`Cluster`: one node's membership in a cluster of nodes joined through NATS.

Subjects (under `settings.prefix`, default `actors`):

- `<prefix>.node.<name>`: every frame for node `name`, in batches. Each batch starts with
  the sender's name and incarnation; one sender's batches arrive in the order published.
- `<prefix>.hb`: heartbeats `[name, incarnation, kind]` (`beat`, `hello` asks everyone to
  beat at once, `leave` says goodbye on a clean stop).
- `<prefix>.ping.<name>`: answered by the node of that name; a starting node asks it to
  refuse a name already in use.

Frames are applied in arrival order without suspending (local hosts are in memory), so the
stream's order is the order in which processes see messages and events. The only work that
may suspend (a spawn) runs in its own task and answers by a reply frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

import attrs
import msgpack
import nats
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.protocol.command import pub_cmd

from actors import errors, run_at_once
from actors.cluster import remote as wire
from actors.cluster.inline import InlineReader
from actors.cluster.names import ClusterNames
from actors.cluster.remote import RemoteNode, discard, down_error
from actors.cluster.server import NatsServer, shared_embedded_server
from actors.cluster.settings import ClusterSettings
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from actors.messages import EXIT, Event, Message, exit_event
from actors.pid import PID
from actors.run_at_once import run_sync
from actors.values import pack_value, unpack_value

if TYPE_CHECKING:
    from actors.node import Node

log = logging.getLogger(__name__)

BEAT, HELLO, LEAVE = "beat", "hello", "leave"
_HEADER_ROOM = 256
"""Bytes of a NATS message kept for the batch header (sender name and incarnation)."""


class Cluster:
    def __init__(self, node: Node, settings: ClusterSettings) -> None:
        self.node = node
        self.settings = settings
        self.name = settings.node
        self.peers: dict[str, RemoteNode] = {}
        self.names = ClusterNames(self)
        self.frames_sent = 0
        self._gone: set[tuple[str, str]] = set()
        """Incarnations declared down: what they still send is dropped."""
        self._nc: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = False
        self._stopping = False
        self._inline: InlineReader | None = None
        self._server: NatsServer | None = None
        """The embedded nats-server, when this node started it."""
        self.max_payload = 1024 * 1024
        self._header_head: bytes | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, refuse a name already in use, subscribe and announce this node."""
        if self.settings.embedded:
            store = self.settings.store_dir or ".actors/nats"
            url, self._server = await shared_embedded_server(store)
            self.settings = attrs.evolve(self.settings, url=url)
        settings = self.settings
        options = settings.connect_options(self._on_disconnect, self._on_reconnect)
        # Fail at once when NATS cannot be reached at start; reconnect for ever afterwards.
        options.update(allow_reconnect=False, max_reconnect_attempts=1, error_cb=_quiet)
        try:
            self._nc = await nats.connect(**options)
        except Exception as exc:
            raise errors.error(
                errors.UNAVAILABLE, f"cannot reach NATS at {settings.safe_url}: {_describe(exc)}"
            ) from None
        self._nc.options.update(allow_reconnect=True, max_reconnect_attempts=-1)
        self._connected = True
        self.max_payload = int(self._nc.max_payload)
        await self._claim_name()
        nc = self._nc
        try:
            await self.names.start(nc.jetstream())
        except Exception as exc:
            self._stopping = True
            await nc.close()
            raise errors.error(
                errors.UNAVAILABLE,
                f"cluster names need JetStream at {settings.safe_url}: {_describe(exc)}",
            ) from None
        frames = await nc.subscribe(self.subject(self.name), cb=_never_called)
        frames._pending_queue = _Inline(self._on_frames)
        self._inline = InlineReader(nc, frames._id, self._on_batch)
        self._inline.attach()
        await nc.subscribe(f"{settings.prefix}.hb", cb=self._on_heartbeat)
        await nc.subscribe(f"{settings.prefix}.ping.{self.name}", cb=self._on_ping)
        await self._beat(HELLO)
        await nc.flush()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._heartbeats()), loop.create_task(self._detect())]
        # Peers answer a hello at once: wait for them so PIDs of running nodes route.
        await asyncio.sleep(min(0.2, settings.heartbeat_interval))
        log.info(
            "node %s (incarnation %s) joined %s",
            self.name,
            self.node.incarnation,
            settings.safe_url,
        )

    async def stop(self) -> None:
        self._stopping = True
        await self.names.stop()
        for task in self._tasks:
            task.cancel()
        for peer in list(self.peers.values()):
            with contextlib.suppress(Exception):
                peer.flush()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._beat(LEAVE)
                await self._nc.flush(timeout=1)
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._nc = None
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def _claim_name(self) -> None:
        try:
            await self._nc.request(f"{self.settings.prefix}.ping.{self.name}", b"", timeout=1.0)
        except (NoRespondersError, NatsTimeout):
            return
        self._stopping = True
        await self._nc.close()
        raise errors.error(
            errors.ALREADY_EXISTS,
            f"node name {self.name} is already in use in the cluster at {self.settings.safe_url}",
        )

    async def _on_ping(self, msg: Msg) -> None:
        await msg.respond(self.node.incarnation.encode())

    # -- addressing --------------------------------------------------------------------------------

    def subject(self, node_name: str) -> str:
        return f"{self.settings.prefix}.node.{node_name}"

    def remote(self, pid: PID) -> RemoteNode | None:
        """The node that owns `pid`, or None when no live node (of that incarnation) does."""
        peer = self.peers.get(pid.node)
        if peer is None or not peer.reaches(pid):
            return None
        return peer

    def peer(self, name: str) -> RemoteNode:
        peer = self.peers.get(name)
        if peer is None or not peer.alive:
            raise errors.not_found(f"node {name} is not in the cluster")
        return peer

    @property
    def max_frame(self) -> int:
        return self.max_payload - _HEADER_ROOM

    def batches(self, frames: list[bytes]) -> Iterator[tuple[int, bytes]]:
        """Frames joined into as few NATS messages as fit (room left for the header), with
        the count of frames in each."""
        limit = self.max_frame
        batch: list[bytes] = []
        size = 0
        for frame in frames:
            if size + len(frame) > limit and batch:
                yield len(batch), b"".join(batch)
                batch, size = [], 0
            batch.append(frame)
            size += len(frame)
        if batch:
            yield len(batch), b"".join(batch)

    def header(self, seq: int, count: int) -> bytes:
        """What starts every batch of `count` frames: a batch is one msgpack array
        `[name, incarnation, seq, frame...]` (one `unpackb` on arrival, not a streaming
        unpacker per batch), so the header is the array's marker, who sends it (packed
        once) and the batch's place in the stream to the peer."""
        head = self._header_head
        if head is None:
            head = self._header_head = pack_value(self.name) + pack_value(self.node.incarnation)
        return _array_marker(count + 3) + head + pack_value(seq)

    async def publish(self, subject: str, data: bytes) -> None:
        try:
            await self._nc.publish(subject, data)
        except Exception as exc:  # closed or stale connection: the peer's monitors will tell
            log.warning("cannot publish to %s: %s", subject, _describe(exc))

    def publish_now(self, subject: str, data: bytes) -> None:
        """Publish without suspending (frames leave from callbacks, not tasks): straight to
        the socket when nats-py has nothing of its own waiting, else behind what it has, so
        the stream keeps its order through a reconnection."""
        self.publish_command(pub_cmd(subject, "", data))

    def publish_command(self, command: bytes) -> None:
        """`publish_now` of a PUB command made by the caller (`pub_command`)."""
        nc = self._nc
        if nc is None or nc.is_closed:
            return
        if nc.is_connected and not nc._pending:
            nc._transport.write(command)
            return
        nc._pending.append(command)
        nc._pending_data_size += len(command)
        if nc.is_connected and nc._flush_queue is not None and nc._flush_queue.empty():
            nc._flush_queue.put_nowait(asyncio.get_running_loop().create_future())

    async def barrier(self) -> None:
        """Return once every live peer has applied everything this node sent it before (the
        streams are ordered, so one round trip each is enough)."""
        peers = [peer for peer in self.peers.values() if peer.alive]
        await asyncio.gather(*(peer.request(wire.SYNC) for peer in peers))

    # -- membership --------------------------------------------------------------------------------

    def _see(self, name: str, incarnation: str) -> RemoteNode | None:
        """The peer that just showed a sign of life (None for a node declared down)."""
        if name == self.name or (name, incarnation) in self._gone:
            return None
        peer = self.peers.get(name)
        if peer is not None and peer.incarnation != incarnation:
            self._down(peer, down_error(name, "restarted"))
            peer = None
        if peer is None:
            peer = RemoteNode(self, name, incarnation)
            self.peers[name] = peer
            log.info("node %s (incarnation %s) is up", name, incarnation)
        peer.last_seen = time.monotonic()
        return peer

    def _down(self, peer: RemoteNode, error: Error) -> None:
        if self.peers.get(peer.name) is peer:
            del self.peers[peer.name]
        self._gone.add((peer.name, peer.incarnation))
        log.warning("%s", error.message)
        peer.node_down(error)
        self.names.node_down(peer.name, peer.incarnation)

    async def _beat(self, kind: str = BEAT) -> None:
        """A heartbeat; it also acknowledges, per peer, the batches received so far, so the
        peers can forget them (they keep the rest to send again after a reconnection)."""
        acks = {peer.name: peer.received for peer in self.peers.values()}
        payload = pack_value([self.name, self.node.incarnation, kind, acks])
        await self.publish(f"{self.settings.prefix}.hb", payload)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval)
            if self._connected:
                await self._beat()

    async def _detect(self) -> None:
        """Declare down every peer silent for longer than the detection time. Not while we
        are cut off from NATS ourselves: then silence says nothing about the others."""
        settings = self.settings
        while True:
            await asyncio.sleep(settings.heartbeat_interval / 2)
            if not self._connected:
                continue
            deadline = time.monotonic() - settings.detection_time
            for peer in list(self.peers.values()):
                if peer.last_seen < deadline:
                    self._down(peer, down_error(peer.name, "is down (no heartbeat)"))

    async def _on_heartbeat(self, msg: Msg) -> None:
        try:
            name, incarnation, kind, acks = msgpack.unpackb(msg.data)
        except Exception:
            return
        if name == self.name:
            return
        if kind == LEAVE:
            peer = self.peers.get(name)
            if peer is not None and peer.incarnation == incarnation:
                self._down(peer, down_error(name, "left the cluster"))
            return
        peer = self._see(name, incarnation)
        if peer is not None and self.name in acks:
            peer.acknowledged(acks[self.name])
        if kind == HELLO:
            await self._beat()

    async def _on_disconnect(self) -> None:
        self._connected = False
        if not self._stopping:
            log.warning("node %s lost its NATS connection; reconnecting", self.name)

    async def _on_reconnect(self) -> None:
        self._connected = True
        if self._inline is not None:
            self._inline.attach()  # the new connection's reader
        now = time.monotonic()
        for peer in self.peers.values():
            peer.last_seen = now  # a fresh detection window: they were cut off too
            peer.send_again()
            self._ask_again(peer, force=True)  # what they sent while we were away
        log.info("node %s reconnected to NATS", self.name)
        await self._beat(HELLO)

    # -- incoming frames ---------------------------------------------------------------------------

    def _on_frames(self, msg: Msg) -> None:
        """A batch that came through nats-py's reader (see `InlineReader`)."""
        self._on_batch(msg.data)

    def _on_batch(self, data: bytes) -> None:
        """A batch from a peer: applied in stream order, and the processes it made ready run
        at its end, before the event loop's next pass (`actors.run_at_once`)."""
        with run_at_once.collecting():
            self._take_batch(data)

    def _take_batch(self, data: bytes) -> None:
        """A batch seen before (sent again after a reconnection) is dropped; one that comes
        early waits for the missing ones."""
        try:
            items = unpack_value(data)
            if type(items) is not list or len(items) < 3:
                raise ValueError("not a batch")
            name, incarnation, seq = items[0], items[1], items[2]
        except Exception:
            log.warning("node %s dropped a malformed batch", self.name)
            return
        peer = self._see(name, incarnation)
        if peer is None or seq <= peer.received:
            return
        if seq > peer.received + 1:
            peer.early[seq] = items
            self._ask_again(peer)
            return
        self._apply_batch(peer, items)
        peer.received = seq
        while peer.received + 1 in peer.early:
            peer.received += 1
            self._apply_batch(peer, peer.early.pop(peer.received))

    def _ask_again(self, peer: RemoteNode, *, force: bool = False) -> None:
        """Ask `peer` to send its unacknowledged batches again (once per gap): NATS lost
        some, because it restarted or this node's subscription was away for a moment."""
        if force or peer.resend_asked != peer.received + 1:
            peer.resend_asked = peer.received + 1
            peer.queue([wire.RESEND])

    def _apply_batch(self, peer: RemoteNode, items: list[Any]) -> None:
        """The frames of a batch (`items`: its array, the header first)."""
        for frame in itertools.islice(items, 3, None):
            try:
                self._apply(peer, frame)
            except Exception:
                log.exception("node %s: cannot apply a frame from %s", self.name, peer.name)

    def _local(self, text: str) -> tuple[PID, Any]:
        pid = PID.parse(text)
        if pid.node and pid.node != self.name:
            return pid, None
        return pid, self.node.route(pid)

    def _apply(self, peer: RemoteNode, frame: list[Any]) -> None:
        op = frame[0]
        node = self.node
        if op == wire.SEND:
            _, sender, target, topic, payload = frame
            pid, host = self._local(target)
            sent = PID.parse(sender) if sender else None
            try:
                if host is None:
                    raise errors.process_not_found(pid)
                run_sync(host.send(pid, Message(topic, payload, sent)))
            except ActorError:  # dropped, as in Erlang; the sender's node learns it is gone
                peer.queue([wire.GONE, target])
        elif op == wire.EVENT:
            _, target, kind, source, value, error, reason, at = frame
            event = Event(kind, PID.parse(source), value, error, reason, at)
            pid = PID.parse(target)
            if kind == EXIT:
                discard(peer.watching, event.source, pid)
                peer.exited(event.source)
            node.deliver_event(pid, event)
        elif op == wire.LINK_DOWN:
            _, target, source, error = frame
            pid, src = PID.parse(target), PID.parse(source)
            discard(peer.links, src, pid)
            peer.exited(src)
            node.link_down(pid, src, error)
        elif op == wire.LINK_RELEASED:
            _, target, source = frame
            pid, src = PID.parse(target), PID.parse(source)
            discard(peer.links, src, pid)
            peer.exited(src)
            node.link_released(pid, src)
        elif op == wire.MONITOR:
            _, target, watcher = frame
            pid, host = self._local(target)
            who = PID.parse(watcher)
            peer.watched[pid].add(who)
            if host is None:
                peer.deliver_event(who, _noproc(pid))
            else:
                run_sync(host.monitor(pid, who))
        elif op == wire.UNMONITOR:
            _, target, watcher = frame
            pid, host = self._local(target)
            who = PID.parse(watcher)
            discard(peer.watched, pid, who)
            if host is not None:
                host.unmonitor(pid, who)
        elif op == wire.TRACK or op == wire.UNTRACK:
            _, watcher, target = frame
            pid, host = self._local(watcher)
            what = PID.parse(target)
            if op == wire.TRACK:
                peer.watching[what].add(pid)
                if host is not None:
                    host.track_monitor(pid, what)
            else:
                discard(peer.watching, what, pid)
                if host is not None:
                    host.untrack_monitor(pid, what)
        elif op == wire.UNLINK:
            _, target, other = frame
            pid, host = self._local(target)
            who = PID.parse(other)
            discard(peer.links, who, pid)
            if host is not None:
                host.unlink(pid, who)
        elif op == wire.REQUEST:
            self._serve(peer, frame[1], frame[2], frame[3:])
        elif op == wire.REPLY:
            _, request_id, ok, value = frame
            peer.answered(request_id, ok, value)
        elif op == wire.RESEND:
            peer.send_again()
        elif op == wire.GONE:
            peer.exited(PID.parse(frame[1]))

    def _serve(self, peer: RemoteNode, request_id: int, op: str, args: list[Any]) -> None:
        """Answer a request: at once when the work cannot suspend, else from a task."""

        def reply(ok: bool, value: Any) -> None:
            if peer.alive:
                peer.queue([wire.REPLY, request_id, ok, value])

        try:
            work = self._request_work(peer, op, args)
            if work is None:
                reply(True, None)
                return
            coro, in_memory = work
            if in_memory:
                reply(True, run_sync(coro))
                return
        except ActorError as exc:
            reply(False, exc.error)
            return

        async def finish() -> None:
            try:
                result = await coro
            except ActorError as exc:
                reply(False, exc.error)
            except Exception as exc:
                reply(False, Error(f"{type(exc).__name__}: {exc}", errors.INTERNAL, False))
            else:
                reply(True, result)

        asyncio.get_running_loop().create_task(finish())

    def _request_work(
        self, peer: RemoteNode, op: str, args: list[Any]
    ) -> tuple[Coroutine[Any, Any, Any], bool] | None:
        node = self.node
        if op == wire.LINK:
            target, other = args
            pid, host = self._local(target)
            if host is None:
                raise errors.process_not_found(pid)
            who = PID.parse(other)
            run_sync(host.link(pid, who))
            peer.links[who].add(pid)
            return None
        if op == wire.TERMINATE:
            target, requester = args
            pid, host = self._local(target)
            if host is None:
                raise errors.process_not_found(pid)
            return host.terminate(pid, PID.parse(requester) if requester else None), host.in_memory
        if op == wire.CANCEL:
            target, requester, reason = args
            pid, host = self._local(target)
            if host is None:
                raise errors.process_not_found(pid)
            return host.cancel(pid, PID.parse(requester), reason), host.in_memory
        if op == wire.SYNC:
            return None
        if op == wire.SPAWN:
            (
                host_name,
                target,
                spawn_args,
                parent,
                monitor,
                link,
                name,
                messages,
                context,
                options,
            ) = args
            request = SpawnRequest(
                target=target,
                args=tuple(spawn_args),
                parent=PID.parse(parent) if parent else None,
                monitor=monitor,
                link=link,
                name=name,
                messages=tuple((m[0], m[1]) for m in messages),
                context=context or {},
                options=options or {},
            )
            return _spawned(node.spawn(host_name, request)), node.answers_at_once(host_name)
        raise errors.invalid(f"unknown cluster request: {op}")


class _Inline(asyncio.Queue):  # type: ignore[type-arg]
    """The pending queue of the frames subscription: nats-py's reader hands each message
    straight to `handler` instead of waking the subscription's task (one event-loop hop
    less per message, and no slow-consumer drops)."""

    def __init__(self, handler: Callable[[Msg], None]) -> None:
        super().__init__()
        self._handler = handler

    def put_nowait(self, item: Msg) -> None:
        self._handler(item)


async def _never_called(msg: Msg) -> None:
    """The frames subscription's callback: its messages go to `_Inline` instead."""


def _array_marker(length: int) -> bytes:
    """The msgpack marker of an array of `length` items."""
    if length < 16:
        return bytes((0x90 | length,))
    if length < 0x10000:
        return b"\xdc" + length.to_bytes(2, "big")
    return b"\xdd" + length.to_bytes(4, "big")


def _noproc(pid: PID) -> Event:
    return exit_event(pid, error=errors.process_not_found(pid).error)


async def _spawned(work: Coroutine[Any, Any, PID]) -> str:
    return str(await work)


async def _quiet(exc: Exception) -> None:
    """nats-py reports connection errors here; `start` and reconnection report them."""


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
