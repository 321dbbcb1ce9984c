"""Replaying a recorded workflow history with `Replayer`: milliseconds per history, Lua and
Python side by side.

Both histories are recorded first, on one fresh in-memory server: `wfbench:activity_loop`
making ACTIVITIES activity calls (about 100 events) on the app's Lua worker, and its Python
twin `ActivityLoop` on a plain temporalio worker. Then, with no server involved, the
driver's replayer (`build_replayer`: what the determinism tests use, and the work a worker
does when it rebuilds an evicted workflow) replays the Lua history REPLAYS times in one
`replay_workflows` call, and a plain `Replayer` of the Python twin (unsandboxed, as the
driver runs) does the same with the Python history. A round is one such call of each side,
about half a second each, the side that goes first alternating; one round warms both up
and is not counted, ROUNDS follow. The times are the best round of each side, wall-clock
and CPU (`time.process_time`: the replay runs in this process, and the load of other
programs disturbs it less); the ratio is the median over the rounds of Lua's CPU time over
Python's in the same round. The machine's speed drifts over seconds (docs/performance.md,
"Noise"), so the two halves of a pair are kept short and many pairs are taken: with seven
rounds of 50 replays a side, one run's pairs went from 0.79 to 1.16.
"""

from __future__ import annotations

import functools
import logging
import statistics
import time
import uuid
from collections.abc import AsyncIterator

import anyio
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from actors.runtime import AppRuntime
from benchmarks.harness import alternating_rounds, report
from benchmarks.workflow_app import (
    APP,
    CLIENT_ID,
    NATIVE_QUEUE,
    NATIVE_WORKFLOWS,
    TASK_QUEUE,
    WORKER_ID,
    booted_app,
    native_worker,
)
from temporal_host.settings import WorkerSettings
from temporal_host.worker import build_replayer

log = logging.getLogger(__name__)

ACTIVITIES = 16
"""4 events to start, 6 per activity call, 1 to complete: 101 events."""
REPLAYS = 16
ROUNDS = 21


async def record_one(client: Client, workflow_type: str, task_queue: str) -> WorkflowHistory:
    handle = await client.start_workflow(
        workflow_type, ACTIVITIES, id=f"replay-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    result = await handle.result()
    if result != ACTIVITIES * (ACTIVITIES + 1):
        raise RuntimeError(f"{workflow_type} returned {result!r}")
    history = await handle.fetch_history()
    log.info("%s: recorded %d events", workflow_type, len(history.events))
    return history


async def record() -> tuple[WorkflowHistory, WorkflowHistory]:
    """(the Lua history, the Python history)."""
    async with booted_app() as app:
        lua = await record_one(app.client, "wfbench:activity_loop", TASK_QUEUE)
        async with native_worker(app.server.address) as native:
            python = await record_one(native, "ActivityLoop", NATIVE_QUEUE)
    if len(lua.events) != len(python.events):
        raise RuntimeError(f"{len(lua.events)} Lua events against {len(python.events)} Python")
    return lua, python


async def copies(history: WorkflowHistory, count: int) -> AsyncIterator[WorkflowHistory]:
    for _ in range(count):
        yield history


async def replay(replayer: Replayer, history: WorkflowHistory) -> tuple[float, float]:
    """(wall ms, CPU ms) per history over REPLAYS replays."""
    started, cpu = time.perf_counter(), time.process_time()
    await replayer.replay_workflows(copies(history, REPLAYS))
    wall = (time.perf_counter() - started) * 1000 / REPLAYS
    return wall, (time.process_time() - cpu) * 1000 / REPLAYS


async def measure() -> list[dict[str, tuple[float, float]]]:
    lua_history, python_history = await record()
    # A replay needs the app's registry and Lua code, not a running node.
    settings = WorkerSettings.create(AppRuntime.load(APP), None, CLIENT_ID, WORKER_ID, TASK_QUEUE)
    sides = {
        "lua": (build_replayer(settings), lua_history),
        "python": (
            Replayer(workflows=NATIVE_WORKFLOWS),
            python_history,
        ),
    }
    rounds = await alternating_rounds(
        ROUNDS + 1, {name: functools.partial(replay, *side) for name, side in sides.items()}
    )
    return rounds[1:]  # the first round warms both sides up


def main() -> None:
    rounds = anyio.run(measure)
    for side, prefix in (("lua", ""), ("python", "python_")):
        report("workflow_replay", f"{prefix}ms_per_history", min(r[side][0] for r in rounds))
        report("workflow_replay", f"{prefix}cpu_ms_per_history", min(r[side][1] for r in rounds))
    ratios = [r["lua"][1] / r["python"][1] for r in rounds]
    report("workflow_replay", "lua_over_python_cpu_ratio", statistics.median(ratios))
