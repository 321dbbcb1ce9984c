"""A Lua process on node `a` spawns monitored children on node `b` (another OS process)
that exit at once, awaiting each EXIT: remote spawn + monitor + exit per second."""

from __future__ import annotations

import time

from actors.pid import PID
from actors.runtime import AppRuntime
from benchmarks.harness import best_of, report
from benchmarks.lua_app import run
from benchmarks.node_bench import with_two_nodes

SPAWNS = 3_000


async def measure() -> float:
    async def body(runtime: AppRuntime, pong: PID) -> float:
        await run(runtime, "bench:spawn_on", "b@bench:processes", 100)
        started = time.perf_counter()
        await run(runtime, "bench:spawn_on", "b@bench:processes", SPAWNS)
        return SPAWNS / (time.perf_counter() - started)

    return await with_two_nodes(body)


def main() -> None:
    report("node_spawn", "remote_spawn_monitor_exit_per_s", best_of(3, measure))
