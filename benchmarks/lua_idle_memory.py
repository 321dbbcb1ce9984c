"""Memory of idle Lua processes: resident-set growth per process blocked on receive."""

from __future__ import annotations

import gc

import anyio

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from benchmarks.harness import report
from benchmarks.lua_app import HOST, with_app

PROCESSES = 100_000


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


async def measure(count: int) -> float:
    async def body(runtime: AppRuntime) -> float:
        gc.collect()
        before = rss_bytes()
        for _ in range(count):
            await runtime.node.spawn(HOST, SpawnRequest(target="bench:idle"))
        while runtime.node.host(HOST).scheduler.busy:
            await anyio.sleep(0.05)
        gc.collect()
        return (rss_bytes() - before) / count

    return await with_app(body)


def main(count: int = PROCESSES) -> None:
    report("lua_idle_memory", "bytes_per_process", anyio.run(measure, count))
