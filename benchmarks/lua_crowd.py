"""Two processes bounce messages beside 100 000 idle ones: on an empty host, on the host
that holds the idle processes, and on another host of the node. Prints the round trips per
CPU second of each (over all rounds: the collector's cycles are part of the cost, so no
round is left out) and the two ratios to the empty host.

Each host keeps its processes in one Lua state, whose collector traces that state's whole
heap: a host with 100 000 live processes collects some 300 MB where an empty one collects
a fraction of one, so its messages cost more, while another host of the same node is not
slowed (docs/performance.md, "A host of 100 000 processes")."""

from __future__ import annotations

import time

from actors import event_loop
from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from benchmarks.harness import report
from benchmarks.lua_app import HOST, UNBUDGETED_HOST, run, until_blocked, with_app

IDLE = 100_000
ROUNDS = 6
ROUND_TRIPS = 100_000


async def measure(idle_host: str | None) -> float:
    """Round trips per CPU second on HOST over ROUNDS rounds, after IDLE idle processes were
    spawned on `idle_host` (none when None)."""

    async def body(runtime: AppRuntime) -> float:
        node = runtime.node
        node.shutdown_grace = 0  # the idle processes ignore CANCEL
        if idle_host is not None:
            await run(runtime, "bench:idle_spawner", IDLE, idle_host, host=idle_host)
            await until_blocked(runtime, idle_host)
        spent = 0.0
        for _ in range(ROUNDS):
            pong = await node.spawn(HOST, SpawnRequest(target="bench:pong"))
            started = time.process_time()
            await run(runtime, "bench:ping", str(pong), ROUND_TRIPS)
            spent += time.process_time() - started
        return ROUNDS * ROUND_TRIPS / spent

    return await with_app(body)


def main() -> None:
    empty = event_loop.run(measure, None)
    same = event_loop.run(measure, HOST)
    other = event_loop.run(measure, UNBUDGETED_HOST)
    report("lua_crowd", "round_trips_per_cpu_s_empty_host", empty)
    report("lua_crowd", "round_trips_per_cpu_s_beside_100k_idle", same)
    report("lua_crowd", "round_trips_per_cpu_s_100k_idle_on_another_host", other)
    report("lua_crowd", "same_host_over_empty_ratio", same / empty)
    report("lua_crowd", "other_host_over_empty_ratio", other / empty)


if __name__ == "__main__":
    main()
