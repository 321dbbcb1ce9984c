"""A Python process spawns monitored children that exit at once and awaits each EXIT:
spawn + monitor + exit cycles per second."""

from __future__ import annotations

import time

from actors.host import SpawnRequest
from actors.node import Node
from actors.python_host import ProcessContext, PythonHost
from benchmarks.harness import best_of, report

CHILDREN = 20_000


async def child(ctx: ProcessContext) -> int:
    return 1


async def parent(ctx: ProcessContext, count: int) -> float:
    events = ctx.events()
    started = time.perf_counter()
    for _ in range(count):
        await ctx.spawn(child, monitor=True)
        await events.receive()
    return count / (time.perf_counter() - started)


async def measure() -> float:
    async with Node() as node:
        host = node.add_host(PythonHost("bench:py"))
        pid = await host.spawn(SpawnRequest(parent, (CHILDREN,)))
        return (await host.wait_exit(pid)).value


def main() -> None:
    report("py_spawn", "spawn_monitor_exit_per_s", best_of(3, measure))
