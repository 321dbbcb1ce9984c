"""1 000 Lua processes each send 100 messages to random others: messages per second.

Every process checks that each sender's messages arrive in order and counts what it gets;
the benchmark fails if any message is lost (the totals must add up) or reordered. The clock
runs from the "go" Python sends each process, once all have their plans (each plan carries
the 1 000 peers' PIDs: handing those out is setup, not messaging), until the last exit.
Before 2026-12-08 the clock also ran over the plans' delivery (docs/performance.md).
"""

from __future__ import annotations

import random

import anyio

from actors.host import SpawnRequest
from actors.messages import Event, Message
from actors.runtime import AppRuntime
from benchmarks.harness import Stopwatch, best_rates, cpu_metric, report
from benchmarks.lua_app import HOST, until_blocked, with_app

PROCESSES = 1_000
MESSAGES = 100


async def measure() -> tuple[float, float]:
    async def body(runtime: AppRuntime) -> tuple[float, float]:
        node = runtime.node
        host = node.host(HOST)
        pids = [
            await node.spawn(HOST, SpawnRequest(target="bench:fanout")) for _ in range(PROCESSES)
        ]
        peers = [str(pid) for pid in pids]
        exits: list[Event] = []
        all_done = anyio.Event()

        def record(event: Event) -> None:
            exits.append(event)
            if len(exits) == PROCESSES:
                all_done.set()

        for pid in pids:
            host.on_exit(pid, record)
        picks = random.Random(8)
        targets = [[picks.randrange(PROCESSES) for _ in range(MESSAGES)] for _ in pids]
        expected = [0] * PROCESSES
        for chosen in targets:
            for target in chosen:
                expected[target] += 1
        plans = [
            {"peers": peers, "targets": [t + 1 for t in targets[i]], "expected": expected[i]}
            for i in range(PROCESSES)
        ]
        for pid, plan in zip(pids, plans, strict=True):
            await host.send(pid, Message("plan", plan))
        await until_blocked(runtime)
        watch = Stopwatch()
        for pid in pids:
            await host.send(pid, Message("go", None))
        await all_done.wait()
        received = 0
        for event in exits:
            if event.error is not None:
                raise RuntimeError(f"fanout process failed: {event.error}")
            received += event.value
        if received != PROCESSES * MESSAGES:
            raise RuntimeError(f"lost messages: {received} of {PROCESSES * MESSAGES}")
        return watch.rates(received)

    return await with_app(body)


def main() -> None:
    wall, cpu = best_rates(3, measure)
    report("lua_fanout", "messages_per_s", wall)
    report("lua_fanout", cpu_metric("messages_per_s"), cpu)
