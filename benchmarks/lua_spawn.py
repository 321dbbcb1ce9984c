"""A Lua process spawns monitored Lua children that exit at once and awaits each EXIT;
against Erlang in the same run, against the bare Lua work of such a cycle
(`lupa_ceiling spawn_cycles_per_s`: how close the kernel comes to what PUC Lua allows), and
on the C library's allocator alone (docs/performance.md, "A cache of small blocks"); and the
bytes of garbage a cycle leaves."""

from __future__ import annotations

import functools
import statistics

from actors import event_loop
from actors.runtime import AppRuntime
from benchmarks.harness import (
    best_rates,
    cpu_metric,
    paired_with_erlang,
    report,
    report_against_erlang,
)
from benchmarks.lua_app import garbage_bytes, on_libc_allocator, run, run_rates, with_app
from benchmarks.lupa_ceiling import spawn_floor

CHILDREN = 5_000


async def measure() -> tuple[float, float]:
    return await run_rates("bench:spawner", CHILDREN, CHILDREN)


async def garbage() -> float:
    async def body(runtime: AppRuntime) -> float:
        return await garbage_bytes(runtime, 20_000, lambda n: run(runtime, "bench:spawner", n))

    return await with_app(body)


def main() -> None:
    pairs = paired_with_erlang(5, measure, "spawn")
    metric = "spawn_monitor_exit_per_s"
    report_against_erlang("lua_spawn", metric, [(w, e) for (w, _), e in pairs])
    report("lua_spawn", cpu_metric(metric), max(c for (_, c), _ in pairs))
    # CPU rates on both sides: the floor is timed with os.clock inside Lua
    floors = [(event_loop.run(measure)[1], spawn_floor()) for _ in range(3)]
    report("lua_spawn", "cpu_ratio_to_bare_lua_cycle", statistics.median(o / f for o, f in floors))
    libc, _ = best_rates(3, functools.partial(on_libc_allocator, measure))
    report("lua_spawn", f"{metric}_on_libc_allocator", libc)
    report("lua_spawn", "garbage_bytes_per_cycle", event_loop.run(garbage))
