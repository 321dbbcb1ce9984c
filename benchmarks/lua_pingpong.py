"""Two Lua processes bounce one message: round trips per second, against Erlang in the
same run (each round paired with one of Erlang's); the same on a host with the CPU budget
off, which shows what the budget costs (docs/performance.md, "The watchdog"); and the same
with the two processes on two hosts of the node, where every message goes through Python
(docs/decisions.md, "A batch runs the sleeping hosts it made ready"); and the same on the C
library's allocator alone (docs/performance.md, "A cache of small blocks"). Beside it, two
tasks of one process bouncing a number over channels; and for both, the bytes of garbage a
round trip leaves for the collector, which is what a crowded host pays for
(docs/performance.md, "A waiter that serves again")."""

from __future__ import annotations

import functools

from actors import event_loop
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
from benchmarks.lua_app import (
    HOST,
    UNBUDGETED_HOST,
    garbage_bytes,
    on_libc_allocator,
    run,
    run_rates,
    with_app,
)

ROUND_TRIPS = 50_000


ACROSS_HOSTS = 10_000
GARBAGE_ROUND_TRIPS = 20_000


async def measure(
    host: str = HOST, pong_host: str | None = None, round_trips: int = ROUND_TRIPS
) -> tuple[float, float]:
    async def body(runtime: AppRuntime) -> tuple[float, float]:
        pong = await runtime.node.spawn(pong_host or host, SpawnRequest(target="bench:pong"))
        watch = Stopwatch()
        await run(runtime, "bench:ping", str(pong), round_trips, host=host)
        return watch.rates(round_trips)

    return await with_app(body)


async def measure_between_tasks() -> tuple[float, float]:
    return await run_rates("bench:tasks", ROUND_TRIPS, ROUND_TRIPS)


async def garbage(between_tasks: bool) -> float:
    async def body(runtime: AppRuntime) -> float:
        async def round_trips(n: int) -> None:
            if between_tasks:
                await run(runtime, "bench:tasks", n)
            else:
                pong = await runtime.node.spawn(HOST, SpawnRequest(target="bench:pong"))
                await run(runtime, "bench:ping", str(pong), n)

        return await garbage_bytes(runtime, GARBAGE_ROUND_TRIPS, round_trips)

    return await with_app(body)


async def measure_unbudgeted() -> tuple[float, float]:
    return await measure(UNBUDGETED_HOST)


async def measure_across_hosts() -> tuple[float, float]:
    return await measure(HOST, UNBUDGETED_HOST, ACROSS_HOSTS)


def main() -> None:
    pairs = paired_with_erlang(5, measure, "pingpong")
    report_against_erlang("lua_pingpong", "round_trips_per_s", [(w, e) for (w, _), e in pairs])
    report("lua_pingpong", cpu_metric("round_trips_per_s"), max(c for (_, c), _ in pairs))
    unbudgeted, _ = best_rates(3, measure_unbudgeted)
    report("lua_pingpong", "round_trips_per_s_without_cpu_budget", unbudgeted)
    across, _ = best_rates(3, measure_across_hosts)
    report("lua_pingpong", "round_trips_per_s_across_hosts", across)
    libc, _ = best_rates(3, functools.partial(on_libc_allocator, measure))
    report("lua_pingpong", "round_trips_per_s_on_libc_allocator", libc)
    report("lua_pingpong", "garbage_bytes_per_round_trip", event_loop.run(garbage, False))
    tasks, _ = best_rates(3, measure_between_tasks)
    report("lua_pingpong", "round_trips_per_s_between_tasks", tasks)
    report(
        "lua_pingpong", "garbage_bytes_per_round_trip_between_tasks", event_loop.run(garbage, True)
    )
