"""One-activity workflows per second, Lua over plain temporalio, against one server.

Both versions of the workflow run in this process, against the same embedded server, at the
same concurrency, started and awaited by a Python client: the Lua one on the app's worker
(the workflow driver, and a `function.lua` activity), the native one on a plain `Worker`
with a Python workflow and a Python activity. The native workflow runs unsandboxed, as the
driver does, so the ratio prices the Lua driver rather than the SDK's sandbox. The server
does the same work for both; the difference is the worker side.
"""

from __future__ import annotations

import logging
import time
import uuid

import anyio
from temporalio.client import Client

from benchmarks.harness import report
from benchmarks.workflow_app import NATIVE_QUEUE, TASK_QUEUE, booted_app, native_worker

log = logging.getLogger(__name__)

WORKFLOWS = 300
CONCURRENCY = 50
WARM_UP = 20
ROUNDS = 2


async def rate(client: Client, workflow_type: str, task_queue: str, count: int) -> float:
    """Workflows per second: `count` runs by CONCURRENCY tasks, each starting the next
    workflow as soon as its previous one completed. Logs the CPU time this process spent
    per workflow (the workers, the client; not the server, a separate process)."""
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
    return per_second


async def measure() -> float:
    async with booted_app() as app:
        lua = app.client
        async with native_worker(app.server.address) as native:
            runs = {
                "lua": (lua, "wfbench:one_activity", TASK_QUEUE),
                "native": (native, "OneActivity", NATIVE_QUEUE),
            }
            for client, workflow_type, queue in runs.values():
                await rate(client, workflow_type, queue, WARM_UP)
            best = dict.fromkeys(runs, 0.0)
            for _ in range(ROUNDS):
                for name, (client, workflow_type, queue) in runs.items():
                    measured = await rate(client, workflow_type, queue, WORKFLOWS)
                    best[name] = max(best[name], measured)
    return best["lua"] / best["native"]


def main() -> None:
    report("workflow_throughput", "lua_over_native_ratio", anyio.run(measure))
