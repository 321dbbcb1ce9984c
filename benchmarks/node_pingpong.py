"""Two Lua processes on two nodes (two OS processes, one nats-server) bounce one message:
round trips per second (issue 11; goal at least 9 000, half of distributed Erlang as the
issue measured it), with distributed Erlang's rate measured in the same run
(`benchmarks/erlang/distbench.erl`: two Erlang nodes on this machine) and the ratio, and the
CPU time one node spends per round trip.

It also prints the ceiling measured in the same minutes (`benchmarks.nats_ceiling`: the same
ping-pong between two bare NATS protocol speakers, no runtime), on the standard asyncio loop
and on uvloop (the runtime's), and the ratio to the uvloop one, so a number taken on a
loaded machine still says how much of the gap is the runtime's; and the `skeleton` ceiling
on uvloop: the bare protocol plus the least per-hop work of any runtime of Lua processes
in Python (msgpack in and out, one lupa resume)."""

from __future__ import annotations

import time

from actors.pid import PID
from actors.runtime import AppRuntime
from benchmarks.harness import paired_with_erlang, report, report_against_erlang
from benchmarks.lua_app import run
from benchmarks.nats_ceiling import ceiling
from benchmarks.node_bench import with_two_nodes

ROUND_TRIPS = 20_000


CPU_US: list[float] = []
"""CPU time node `a` spent per round trip, per run: what the load of the machine changes
least (node `b` does the same work)."""


async def measure() -> float:
    async def body(runtime: AppRuntime, pong: PID) -> float:
        started, cpu = time.perf_counter(), time.process_time()
        await run(runtime, "bench:ping", str(pong), ROUND_TRIPS)
        CPU_US.append((time.process_time() - cpu) / ROUND_TRIPS * 1e6)
        return ROUND_TRIPS / (time.perf_counter() - started)

    return await with_two_nodes(body)


def main() -> None:
    pairs = paired_with_erlang(3, measure, "distributed")
    report_against_erlang("node_pingpong", "round_trips_per_s", pairs)
    ours = max(rate for rate, _ in pairs)
    report("node_pingpong", "node_cpu_us_per_round_trip", min(CPU_US))
    on_asyncio = max(ceiling(False) for _ in range(3))
    report("node_pingpong", "raw_nats_round_trips_per_s", on_asyncio)
    on_uvloop = max(ceiling(True) for _ in range(3))
    report("node_pingpong", "raw_nats_uvloop_round_trips_per_s", on_uvloop)
    report("node_pingpong", "ratio_to_raw_nats_uvloop", ours / on_uvloop)
    skeleton = max(ceiling(True, skeleton=True) for _ in range(3))
    report("node_pingpong", "skeleton_uvloop_round_trips_per_s", skeleton)
