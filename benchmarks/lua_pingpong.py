"""Two Lua processes bounce one message: round trips per second, against Erlang in the
same run (each round paired with one of Erlang's); and the same on a host with the CPU
budget off, which shows what the budget costs (docs/performance.md, "The watchdog")."""

from __future__ import annotations

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from benchmarks.harness import (
    Stopwatch,
    best_rates,
    cpu_metric,
    paired_with_erlang,
    report,
    report_against_erlang,
)
from benchmarks.lua_app import HOST, UNBUDGETED_HOST, run, with_app

ROUND_TRIPS = 50_000


async def measure(host: str = HOST) -> tuple[float, float]:
    async def body(runtime: AppRuntime) -> tuple[float, float]:
        pong = await runtime.node.spawn(host, SpawnRequest(target="bench:pong"))
        watch = Stopwatch()
        await run(runtime, "bench:ping", str(pong), ROUND_TRIPS, host=host)
        return watch.rates(ROUND_TRIPS)

    return await with_app(body)


async def measure_unbudgeted() -> tuple[float, float]:
    return await measure(UNBUDGETED_HOST)


def main() -> None:
    pairs = paired_with_erlang(5, measure, "pingpong")
    report_against_erlang("lua_pingpong", "round_trips_per_s", [(w, e) for (w, _), e in pairs])
    report("lua_pingpong", cpu_metric("round_trips_per_s"), max(c for (_, c), _ in pairs))
    unbudgeted, _ = best_rates(3, measure_unbudgeted)
    report("lua_pingpong", "round_trips_per_s_without_cpu_budget", unbudgeted)
