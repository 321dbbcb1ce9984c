"""Two Lua processes on two nodes (two OS processes, one nats-server) bounce one message:
round trips per second (issue 11; goal at least 9 000, half of distributed Erlang here)."""

from __future__ import annotations

import time

from actors.pid import PID
from actors.runtime import AppRuntime
from benchmarks.harness import best_of, report
from benchmarks.lua_app import run
from benchmarks.node_bench import with_two_nodes

ROUND_TRIPS = 20_000


async def measure() -> float:
    async def body(runtime: AppRuntime, pong: PID) -> float:
        started = time.perf_counter()
        await run(runtime, "bench:ping", str(pong), ROUND_TRIPS)
        return ROUND_TRIPS / (time.perf_counter() - started)

    return await with_two_nodes(body)


def main() -> None:
    report("node_pingpong", "round_trips_per_s", best_of(3, measure))
