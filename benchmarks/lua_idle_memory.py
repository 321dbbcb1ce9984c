"""Memory of idle Lua processes: resident-set growth per process blocked on receive.

Also checks that nothing grows quadratically with the number of processes (issue 8):
spawning 100 000 may take at most ten times as long as spawning 10 000, measured in CPU
time (the machine is shared) in the same run.
"""

from __future__ import annotations

import gc
import time

import anyio

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from benchmarks.harness import report
from benchmarks.lua_app import HOST, run, with_app

PROCESSES = 100_000


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


async def measure(count: int, in_lua: bool = False) -> tuple[float, float]:
    """(bytes per idle process, CPU seconds to spawn them all and let them block).
    `in_lua`: a Lua process spawns them (no Python record each), else Python does."""

    async def body(runtime: AppRuntime) -> tuple[float, float]:
        gc.collect()
        before = rss_bytes()
        started = time.process_time()
        if in_lua:
            await runtime.node.spawn(HOST, SpawnRequest(target="bench:idle"))  # compiles it
            await run(runtime, "bench:idle_spawner", count - 1)
        else:
            for _ in range(count):
                await runtime.node.spawn(HOST, SpawnRequest(target="bench:idle"))
        while runtime.node.host(HOST).scheduler.busy:
            await anyio.sleep(0.05)
        spent = time.process_time() - started
        gc.collect()
        return (rss_bytes() - before) / count, spent

    return await with_app(body)


def main(count: int = PROCESSES) -> None:
    for in_lua, suffix in ((False, ""), (True, "_spawned_in_lua")):
        per_process, spent = anyio.run(measure, count, in_lua)
        report("lua_idle_memory", f"bytes_per_process{suffix}", per_process)
        _, spent_tenth = anyio.run(measure, count // 10, in_lua)
        report("lua_idle_memory", f"spawn_cpu_s{suffix}", spent)
        report("lua_idle_memory", f"spawn_10x_count_time_ratio{suffix}", spent / spent_tenth)
