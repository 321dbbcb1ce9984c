"""Replaying a recorded Lua workflow history with `Replayer`: milliseconds per history.

The history is recorded first, on a fresh in-memory server: `wfbench:activity_loop` making
ACTIVITIES activity calls, about 100 events. The driver's replayer (`build_replayer`: what
the determinism tests use, and the work a worker does when it rebuilds an evicted workflow)
then replays it REPLAYS times in one `replay_workflows` call, with no server involved. Each
replay builds the workflow's Lua state from scratch and runs the Lua code through every
recorded workflow task. Best of ROUNDS.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import AsyncIterator

import anyio
from temporalio.client import WorkflowHistory

from actors.runtime import AppRuntime
from benchmarks.harness import report
from benchmarks.workflow_app import APP, CLIENT_ID, TASK_QUEUE, WORKER_ID, booted_app
from temporal_host.settings import WorkerSettings
from temporal_host.worker import build_replayer

log = logging.getLogger(__name__)

ACTIVITIES = 16
"""4 events to start, 6 per activity call, 1 to complete: 101 events."""
REPLAYS = 50
ROUNDS = 3


async def record() -> WorkflowHistory:
    async with booted_app() as app:
        handle = await app.client.start_workflow(
            "wfbench:activity_loop",
            ACTIVITIES,
            id=f"replay-{uuid.uuid4().hex[:8]}",
            task_queue=TASK_QUEUE,
        )
        result = await handle.result()
        if result != ACTIVITIES * (ACTIVITIES + 1):
            raise RuntimeError(f"wfbench:activity_loop returned {result!r}")
        history = await handle.fetch_history()
    log.info("recorded %d events", len(history.events))
    return history


async def copies(history: WorkflowHistory, count: int) -> AsyncIterator[WorkflowHistory]:
    for _ in range(count):
        yield history


async def measure() -> float:
    history = await record()
    # A replay needs the app's registry and Lua code, not a running node.
    settings = WorkerSettings.create(AppRuntime.load(APP), None, CLIENT_ID, WORKER_ID, TASK_QUEUE)
    replayer = build_replayer(settings)
    best = math.inf
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await replayer.replay_workflows(copies(history, REPLAYS))
        best = min(best, (time.perf_counter() - started) * 1000 / REPLAYS)
    return best


def main() -> None:
    report("workflow_replay", "ms_per_history", anyio.run(measure))
