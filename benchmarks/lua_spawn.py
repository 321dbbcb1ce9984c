"""A Lua process spawns monitored Lua children that exit at once and awaits each EXIT."""

from __future__ import annotations

import time

from actors.runtime import AppRuntime
from benchmarks.harness import best_of, report_against_erlang
from benchmarks.lua_app import run, with_app

CHILDREN = 5_000


async def measure() -> float:
    async def body(runtime: AppRuntime) -> float:
        started = time.perf_counter()
        await run(runtime, "bench:spawner", CHILDREN)
        return CHILDREN / (time.perf_counter() - started)

    return await with_app(body)


def main() -> None:
    report_against_erlang("lua_spawn", "spawn_monitor_exit_per_s", best_of(3, measure), "spawn")
