"""Workers and the Temporal server killed while workflows run (loopback only, bounded).

- `actors worker` subprocesses SIGKILLed at random moments while jobs (three activities
  with durable sleeps between them) are in flight, and restarted: every job completes with
  the right result. Short form: 20 jobs, one kill; soak: 200 jobs, three kills.
- The dev server SIGKILLed for a while and restarted on its SQLite file: the node's own
  worker reconnects by itself, and a local process monitoring and linked to a workflow still
  gets its EXIT, within seconds of the recovery. Short form: 5 s down; soak: 5, 30 and 90 s.
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path

import anyio
import pytest
from temporalio.client import Client

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from temporal_host.embedded import EmbeddedServer
from temporal_host.protocol import DATA_CONVERTER
from tests.faults.conftest import SOAK, report, scale
from tests.temporal.test_durability import worker_process

pytestmark = pytest.mark.anyio

APP = Path(__file__).parents[1] / "apps" / "faults"
QUEUE = "faults"


def expected(n: int) -> dict[str, int]:
    return {"n": n, "total": 30 * n + 6}


async def test_jobs_complete_although_workers_are_killed(tmp_path: Path) -> None:
    jobs, kills = scale(20, 200), scale(1, 3)
    rng = random.Random(12)
    async with EmbeddedServer(db_filename=tmp_path / "temporal.db") as server:
        client = await Client.connect(server.address, data_converter=DATA_CONVERTER)
        prefix = f"fault-{uuid.uuid4().hex[:6]}"
        started = time.monotonic()
        handles = [
            await client.start_workflow(
                "faults:job", args=[n, "1s", 300], id=f"{prefix}-{n}", task_queue=QUEUE
            )
            for n in range(jobs)
        ]
        for _ in range(kills):
            async with worker_process(server.address, APP) as worker:
                await anyio.sleep(rng.uniform(1.0, 4.0))
                await worker.kill()
        killed = time.monotonic()
        async with worker_process(server.address, APP):
            with anyio.fail_after(scale(90, 300)):
                results = [await handle.result() for handle in handles]
        done = time.monotonic()
    assert results == [expected(n) for n in range(jobs)]
    report("worker_kill", "jobs", jobs)
    report("worker_kill", "kills", kills)
    report("worker_kill", "total_s", round(done - started, 1))
    report("worker_kill", "after_last_kill_s", round(done - killed, 1))


@pytest.mark.parametrize("down", [5] + ([30, 90] if SOAK else []))
async def test_local_watchers_get_exit_across_a_server_restart(tmp_path: Path, down: int) -> None:
    server = EmbeddedServer(db_filename=tmp_path / "temporal.db")
    await server.start()
    try:
        port = int(server.address.rsplit(":", 1)[1])
        runtime = AppRuntime.load(
            APP, settings={"temporal_address": server.address, "ephemeral": True}
        )
        assert not runtime.errors, runtime.errors
        async with runtime.node:
            await runtime.start()
            node = runtime.node
            pid = await node.spawn("faults:processes", SpawnRequest("faults:watcher", (7, "3s")))
            await anyio.sleep(1.0)  # the job runs: its first activity or its first sleep
            assert server.pid is not None
            server._process.kill()  # SIGKILL: no clean shutdown of the server
            await server.stop()
            await anyio.sleep(down)
            server.port = port
            await server.start()
            recovered = time.monotonic()
            with anyio.fail_after(60):
                event = await node.host("faults:processes").wait_exit(pid)
            latency = time.monotonic() - recovered
    finally:
        await server.stop()
    assert event.error is None, event.error
    assert event.value == {"events": [{"kind": "pid.exit", "value": expected(7)}]}
    report(f"server_down_{down}s", "exit_after_recovery_s", round(latency, 1))
    assert latency < 30
