"""Memory of idle Lua processes: resident-set growth per process blocked on receive.

Also checks that nothing grows quadratically with the number of processes (issue 8):
spawning 100 000 may take at most ten times as long as spawning 10 000, measured in CPU
time. Each round spawns 100 000 once and 10 000 ten times, so both sizes do the same work
and spend the same time exposed to the machine's load; the ratio is of the mean CPU time
of each size. (A best-of-three compared a short run that could fall between two bursts of
other tenants' work with a long one that never can: on a shared machine the runs of 10 000
come in two modes, about 1.8 times apart, while 100 000 always averages the two: over
one set of runs the minimums gave 12.4 and the means 9.3; docs/performance.md, "The 10x
check's estimator".)

Erlang's ratio for the same check is printed beside ours (`erlang_spawn_10x_count_time_ratio`:
a fresh VM with one scheduler per run, spawning processes that block in receive, CPU time
at a millisecond's resolution), so the cost of the larger size's memory on this machine,
which no runtime escapes, shows next to ours.

Each measurement runs in a fresh interpreter (`python -m benchmarks.lua_idle_memory COUNT
python|lua` runs one and prints its two numbers). In one interpreter every run left its
whole runtime behind (`AppRuntime.start` freezes the runtime for the collector, so it is
never freed), about 600 MB per 100 000 processes: the third run of a size took up to twice
as long as the first, and a run that reused memory freed by an earlier one would have
under-counted its resident set.
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from benchmarks import erlang_baseline
from benchmarks.harness import report
from benchmarks.lua_app import HOST, run, until_blocked, with_app

PROCESSES = 100_000
ROUNDS = 2
SMALL = 10
"""Runs of a tenth of the count per run of the full count."""
ROOT = Path(__file__).resolve().parent.parent


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
        await until_blocked(runtime)
        spent = time.process_time() - started
        gc.collect()
        # The idle processes ignore CANCEL: do not wait the default grace for them to exit.
        runtime.node.shutdown_grace = 0
        return (rss_bytes() - before) / count, spent

    return await with_app(body)


def measure_apart(count: int, in_lua: bool) -> tuple[float, float]:
    """`measure` in a fresh interpreter (the module docstring says why)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.lua_idle_memory", str(count), _variant(in_lua)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    per_process, spent = done.stdout.split()
    return float(per_process), float(spent)


def _variant(in_lua: bool) -> str:
    return "lua" if in_lua else "python"


def scale_ratio(seconds: Callable[[int], float], count: int) -> tuple[float, float]:
    """(mean CPU seconds of a run of `count`, its ratio to the mean of a run of a tenth):
    ROUNDS rounds of one run of `count` and SMALL of a tenth."""
    full: list[float] = []
    tenth: list[float] = []
    for _ in range(ROUNDS):  # alternating: a change of load hits both sizes
        full.append(seconds(count))
        tenth.extend(seconds(count // 10) for _ in range(SMALL))
    return statistics.mean(full), statistics.mean(full) / statistics.mean(tenth)


def main(count: int = PROCESSES) -> None:
    for in_lua, suffix in ((False, ""), (True, "_spawned_in_lua")):
        memory: list[float] = []

        def seconds(n: int, in_lua: bool = in_lua, memory: list[float] = memory) -> float:
            per_process, spent = measure_apart(n, in_lua)
            if n == count:
                memory.append(per_process)
            return spent

        spent, ratio = scale_ratio(seconds, count)
        report("lua_idle_memory", f"bytes_per_process{suffix}", statistics.median(memory))
        report("lua_idle_memory", f"spawn_cpu_s{suffix}", spent)
        report("lua_idle_memory", f"spawn_10x_count_time_ratio{suffix}", ratio)
    if erlang_baseline.idle_spawn_seconds(10) is None:
        print("lua_idle_memory erlang_spawn_10x_count_time_ratio unavailable (install erlang-base)")
        return
    _, erlang_ratio = scale_ratio(_erlang_seconds, count)
    report("lua_idle_memory", "erlang_spawn_10x_count_time_ratio", erlang_ratio)


def _erlang_seconds(count: int) -> float:
    spent = erlang_baseline.idle_spawn_seconds(count)
    assert spent is not None
    return spent


if __name__ == "__main__":
    size, variant = sys.argv[1:]
    print(*anyio.run(measure, int(size), variant == _variant(True)))
