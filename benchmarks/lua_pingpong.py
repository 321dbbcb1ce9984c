"""Two Lua processes bounce one message: round trips per second."""

from __future__ import annotations

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from benchmarks.harness import Stopwatch, best_rates, cpu_metric, report, report_against_erlang
from benchmarks.lua_app import HOST, run, with_app

ROUND_TRIPS = 50_000


async def measure() -> tuple[float, float]:
    async def body(runtime: AppRuntime) -> tuple[float, float]:
        pong = await runtime.node.spawn(HOST, SpawnRequest(target="bench:pong"))
        watch = Stopwatch()
        await run(runtime, "bench:ping", str(pong), ROUND_TRIPS)
        return watch.rates(ROUND_TRIPS)

    return await with_app(body)


def main() -> None:
    wall, cpu = best_rates(3, measure)
    report_against_erlang("lua_pingpong", "round_trips_per_s", wall, "pingpong")
    report("lua_pingpong", cpu_metric("round_trips_per_s"), cpu)
