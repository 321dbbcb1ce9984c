"""Two Python processes on the local host bounce one message: round trips per second."""

from __future__ import annotations

import time

from actors.host import SpawnRequest
from actors.node import Node
from actors.pid import PID
from actors.python_host import ProcessContext, PythonHost
from benchmarks.harness import best_of, report

ROUND_TRIPS = 100_000


async def pong(ctx: ProcessContext) -> None:
    inbox = ctx.inbox()
    while True:
        message = await inbox.receive()
        if message.topic == "stop":
            return
        await ctx.send(message.sender, "pong", message.payload)


async def ping(ctx: ProcessContext, target: str, count: int) -> float:
    inbox = ctx.inbox()
    peer = PID.parse(target)
    started = time.perf_counter()
    for i in range(count):
        await ctx.send(peer, "ping", i)
        await inbox.receive()
    elapsed = time.perf_counter() - started
    await ctx.send(peer, "stop")
    return count / elapsed


async def measure() -> float:
    async with Node() as node:
        host = node.add_host(PythonHost("bench:py"))
        peer = await host.spawn(SpawnRequest(pong))
        pinger = await host.spawn(SpawnRequest(ping, (str(peer), ROUND_TRIPS)))
        return (await host.wait_exit(pinger)).value


def main() -> None:
    report("py_pingpong", "round_trips_per_s", best_of(3, measure))
