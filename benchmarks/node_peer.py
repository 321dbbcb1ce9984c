"""The second node of the node benchmarks, in its own OS process.

`python -m benchmarks.node_peer URL PREFIX`: joins the cluster as node `b` with the Lua
benchmark app, spawns a `bench:pong`, prints its PID on stdout and serves until stdin
closes.
"""

from __future__ import annotations

import logging
import sys

import anyio

from actors import event_loop
from actors.cluster import ClusterSettings
from actors.host import SpawnRequest
from actors.node import Node
from actors.runtime import AppRuntime
from benchmarks.lua_app import APP, HOST


async def serve(url: str, prefix: str) -> None:
    node = Node(cluster=ClusterSettings(node="b", url=url, prefix=prefix), shutdown_grace=0.1)
    runtime = AppRuntime.load(APP, node=node)
    async with runtime.node:
        await runtime.start()
        pong = await node.spawn(HOST, SpawnRequest(target="bench:pong"))
        print(pong, flush=True)
        await anyio.to_thread.run_sync(sys.stdin.read)


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    event_loop.run(serve, sys.argv[1], sys.argv[2])
