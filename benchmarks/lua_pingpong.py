"""Two Lua processes bounce one message: round trips per second."""

from __future__ import annotations

import time

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from benchmarks.harness import best_of, report_against_erlang
from benchmarks.lua_app import HOST, run, with_app

ROUND_TRIPS = 50_000


async def measure() -> float:
    async def body(runtime: AppRuntime) -> float:
        pong = await runtime.node.spawn(HOST, SpawnRequest(target="bench:pong"))
        started = time.perf_counter()
        await run(runtime, "bench:ping", str(pong), ROUND_TRIPS)
        return ROUND_TRIPS / (time.perf_counter() - started)

    return await with_app(body)


def main() -> None:
    report_against_erlang("lua_pingpong", "round_trips_per_s", best_of(3, measure), "pingpong")
