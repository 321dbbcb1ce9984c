"""Lua processes across two nodes joined through a real nats-server: a Lua process spawns
monitored children on the other node by `node@host` and hears from them (issue 11, item 2)."""

from __future__ import annotations

import uuid
from pathlib import Path

import anyio
import pytest

from actors.cluster import ClusterSettings, NatsServer
from actors.host import SpawnRequest
from actors.node import Node
from actors.runtime import AppRuntime

pytestmark = pytest.mark.anyio

APP = Path(__file__).parents[1] / "apps" / "nodes"
HOST = "nodes:processes"


def lua_node(server: NatsServer, name: str, prefix: str) -> AppRuntime:
    settings = ClusterSettings(node=name, url=server.url, prefix=prefix)
    return AppRuntime.load(APP, node=Node(cluster=settings, shutdown_grace=0.05))


async def test_lua_spawns_monitored_children_on_another_node(nats_server: NatsServer) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    a, b = lua_node(nats_server, "a", prefix), lua_node(nats_server, "b", prefix)
    async with a.node, b.node:
        await a.start()
        await b.start()
        spawner = await a.node.spawn(
            HOST, SpawnRequest(target="nodes:spawner", args=(f"b@{HOST}", 3))
        )
        event = await a.node.host(HOST).wait_exit(spawner)
        assert event.error is None, event.error
        assert event.value == {"hellos": [1, 2, 3], "results": [2, 4, 6]}


async def test_a_burst_sent_while_a_batch_is_applied_arrives_whole_and_in_order(
    nats_server: NatsServer,
) -> None:
    """A process woken by a frame answers with several messages in one step, run inside the
    batch's read callback (`run_at_once`): the first leaves at once, the others are queued
    and must leave at the end of that pass of the event loop (`RemoteNode.queue`), not wait
    for traffic that never comes."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    a, b = lua_node(nats_server, "a", prefix), lua_node(nats_server, "b", prefix)
    async with a.node, b.node:
        await a.start()
        await b.start()
        burst = await b.node.spawn(HOST, SpawnRequest(target="nodes:burst"))
        asker = await a.node.spawn(
            HOST, SpawnRequest(target="nodes:asker", args=(str(burst), 20, 5))
        )
        with anyio.fail_after(10):
            event = await a.node.host(HOST).wait_exit(asker)
        assert event.error is None, event.error
        assert event.value == [1, 2, 3, 4, 5] * 20
