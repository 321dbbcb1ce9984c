"""One-activity workflows per second, Lua over plain temporalio, against one server.

Both versions of the workflow run in this process, against the same embedded server, at the
same concurrency, started and awaited by a Python client: the Lua one on the app's worker
(the workflow driver, and a `function.lua` activity), the native one on a plain `Worker`
with a Python workflow and a Python activity. The native workflow runs unsandboxed, as the
driver does, so the ratio prices the Lua driver rather than the SDK's sandbox. The server
does the same work for both; the difference is the worker side. The rate ratio is the
issue's metric, but the server shares the two cores and the rate moves with the machine's
load; the CPU this process spends per workflow, printed per side with their ratio (native
over Lua: 1 or more means a Lua workflow costs no more), is the steadier measure. A round
runs WORKFLOWS of each side, the side going first alternating; both ratios are medians over
the ROUNDS rounds of the two sides' numbers in the same round, which share the machine's
drift (docs/performance.md, "Noise"). Best over best, which this benchmark took until
2026-12-07, read 1.29 and 0.86 in two runs a minute apart.

The server's CPU per workflow is printed too: it takes about three times the worker's,
most of the two cores, so the rate follows the server more than the worker, and a
difference in the worker's CPU moves the rate ratio only by its share of the whole
(docs/performance.md, "What sets the rate").
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import attrs
from temporalio.client import Client

from benchmarks.harness import alternating_rounds, report
from benchmarks.workflow_app import NATIVE_QUEUE, TASK_QUEUE, booted_app, native_worker

log = logging.getLogger(__name__)

WORKFLOWS = 300
CONCURRENCY = 50
WARM_UP = 20
ROUNDS = 7


async def rate(
    client: Client, workflow_type: str, task_queue: str, count: int
) -> tuple[float, float]:
    """(workflows per second, CPU ms per workflow): `count` runs by CONCURRENCY tasks, each
    starting the next workflow as soon as its previous one completed. The CPU time is this
    process's (the workers, the client; not the server, a separate process): what the load
    of other programs on the machine disturbs least."""
    numbers = iter(range(count))
    prefix = uuid.uuid4().hex[:8]

    async def runner() -> None:
        for n in numbers:
            result = await client.execute_workflow(
                workflow_type, n, id=f"{prefix}-{n}", task_queue=task_queue
            )
            if result != n * 2:
                raise RuntimeError(f"{workflow_type}({n}) returned {result!r}")

    started, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as tg:
        for _ in range(CONCURRENCY):
            tg.start_soon(runner)
    per_second = count / (time.perf_counter() - started)
    cpu_ms = (time.process_time() - cpu) * 1000 / count
    log.info("%s: %.1f workflows/s, %.1f ms CPU each", workflow_type, per_second, cpu_ms)
    return per_second, cpu_ms


Run = tuple[Client, str, str]
"""What `rate` starts: (client, workflow type, task queue)."""


@attrs.frozen
class Sides:
    runs: dict[str, Run]
    """`lua` and `native`."""
    server_pid: int
    """The embedded Temporal server both sides use."""


@contextlib.asynccontextmanager
async def warm_sides() -> AsyncIterator[Sides]:
    """The two sides, `lua` on the booted app and `native` on a plain worker, each warmed
    up with WARM_UP runs."""
    async with booted_app() as app, native_worker(app.server.address) as native:
        runs: dict[str, Run] = {
            "lua": (app.client, "wfbench:one_activity", TASK_QUEUE),
            "native": (native, "OneActivity", NATIVE_QUEUE),
        }
        for run in runs.values():
            await rate(*run, WARM_UP)
        assert app.server.pid is not None
        yield Sides(runs, app.server.pid)


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process `pid` has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def rate_and_server(run: Run, server_pid: int) -> tuple[float, float, float]:
    """`rate` of WORKFLOWS, and the server's CPU ms per workflow meanwhile."""
    before = cpu_seconds(server_pid)
    per_second, cpu_ms = await rate(*run, WORKFLOWS)
    return per_second, cpu_ms, (cpu_seconds(server_pid) - before) * 1000 / WORKFLOWS


async def measure() -> list[dict[str, tuple[float, float, float]]]:
    """Per round, per side: (workflows per second, CPU ms per workflow, the server's)."""
    async with warm_sides() as warm:
        sides = {
            name: functools.partial(rate_and_server, run, warm.server_pid)
            for name, run in warm.runs.items()
        }
        return await alternating_rounds(ROUNDS, sides)


def main() -> None:
    rounds = anyio.run(measure)
    lua_over_native = statistics.median(r["lua"][0] / r["native"][0] for r in rounds)
    report("workflow_throughput", "lua_over_native_ratio", lua_over_native)
    report("workflow_throughput", "cpu_ms_per_workflow", min(r["lua"][1] for r in rounds))
    report("workflow_throughput", "native_cpu_ms_per_workflow", min(r["native"][1] for r in rounds))
    native_over_lua_cpu = statistics.median(r["native"][1] / r["lua"][1] for r in rounds)
    report("workflow_throughput", "native_over_lua_cpu_ratio", native_over_lua_cpu)
    server = statistics.median(side[2] for r in rounds for side in r.values())
    report("workflow_throughput", "server_cpu_ms_per_workflow", server)
