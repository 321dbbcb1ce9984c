"""Shared set-up of the node benchmarks: a nats-server, node `b` in another OS process
(`benchmarks.node_peer`) and node `a` here, both with the Lua benchmark app."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from actors.cluster import ClusterSettings, NatsServer
from actors.node import Node
from actors.pid import PID
from actors.runtime import AppRuntime
from benchmarks.lua_app import APP

T = TypeVar("T")


async def with_two_nodes(body: Callable[[AppRuntime, PID], Awaitable[T]]) -> T:
    """Run `body(runtime of node a, PID of a pong on node b)`."""
    async with NatsServer() as server:
        prefix = f"bench{uuid.uuid4().hex[:6]}"
        peer = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.node_peer", server.url, prefix],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert peer.stdout is not None
            pong = PID.parse(peer.stdout.readline().strip())
            settings = ClusterSettings(node="a", url=server.url, prefix=prefix)
            runtime = AppRuntime.load(APP, node=Node(cluster=settings, shutdown_grace=0.1))
            async with runtime.node:
                await runtime.start()
                return await body(runtime, pong)
        finally:
            stop_peer(peer)


def stop_peer(peer: subprocess.Popen[str]) -> None:
    """End a peer process that serves until its stdin closes (killed if it lingers)."""
    if peer.stdin is not None:
        peer.stdin.close()
    try:
        peer.wait(10)
    except subprocess.TimeoutExpired:
        peer.kill()
