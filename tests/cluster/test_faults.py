"""Faults of the cluster transport (issue 11, "Bad input and faults"): NATS restarted under
running nodes. Its own nats-server, since the test kills it."""

from __future__ import annotations

import uuid

import anyio
import pytest

from actors.cluster import NatsServer
from actors.messages import EXIT
from tests.cluster.test_transport import cluster_node, next_event, probe, receive, settle

pytestmark = pytest.mark.anyio


async def test_nats_restarted_mid_run(tmp_path: object) -> None:
    """Nodes reconnect by themselves; what was sent while NATS was down arrives once, in
    order; monitors set up before still fire, and no node was declared down."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    async with (
        NatsServer() as server,
        cluster_node(server, "a", prefix) as a,
        cluster_node(server, "b", prefix) as b,
    ):
        sender, receiver, watched = await probe(a), await probe(b), await probe(b)
        await sender.monitor(watched.pid)
        for n in range(50):
            await sender.send(receiver.pid, "n", n)
        server.kill()
        for n in range(50, 100):  # while NATS is down: buffered by the client
            await sender.send(receiver.pid, "n", n)
        await anyio.sleep(0.5)
        await server.start()
        got = [(await receive(receiver.inbox())).payload for _ in range(100)]
        assert got == list(range(100))
        await settle(sender, receiver)
        assert len(receiver.inbox()) == 0  # nothing twice
        assert set(a.node.cluster.peers) == {"b"} and set(b.node.cluster.peers) == {"a"}
        await b.node.terminate(None, watched.pid)
        event = await next_event(sender)
        assert (event.kind, event.source, event.error.kind) == (EXIT, watched.pid, "Canceled")
