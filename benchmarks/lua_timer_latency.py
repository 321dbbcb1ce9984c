"""Timers stay on time while the host is busy: a 1 ms sleep, repeated, while 1 000 Lua
processes ping-pong (500 pairs). Prints how late the wake-ups were (issue 8: within 5 ms).

The scheduler runs ready processes in batches and looks at the timers between batches, so
a busy host must not starve them; the median and the 99th percentile say how well.
"""

from __future__ import annotations

import statistics

import anyio

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from benchmarks.harness import report
from benchmarks.lua_app import HOST, run, with_app

PAIRS = 500
SLEEPS = 500


async def measure() -> list[float]:
    async def body(runtime: AppRuntime) -> list[float]:
        node = runtime.node
        node.shutdown_grace = 0.1  # the pairs never stop by themselves
        pongs = [await node.spawn(HOST, SpawnRequest(target="bench:pong")) for _ in range(PAIRS)]
        for pong in pongs:
            await node.spawn(HOST, SpawnRequest(target="bench:ping", args=(str(pong), 10**9)))
        await anyio.sleep(0.1)  # every pair is bouncing
        event = await run(runtime, "bench:sleeper", SLEEPS)
        return [late / 1000 for late in event.value]

    return await with_app(body)


def main() -> None:
    late = sorted(anyio.run(measure))
    report("lua_timer_latency", "median_late_ms", statistics.median(late))
    report("lua_timer_latency", "p99_late_ms", late[int(len(late) * 0.99) - 1])
