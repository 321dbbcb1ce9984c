"""Golden replays: the recorded histories of the seed examples must replay without
nondeterminism, so a change to the driver or to an example that would break workflows in
flight fails here.

`histories/*.json` are recorded by `record_histories.py` (its docstring says when to
re-record). Each is replayed by a `Replayer` built like the real worker's
(`worker.build_replayer`: the dynamic Lua workflow, the worker interceptors,
`protocol.DATA_CONVERTER`) over `examples/seed`. A replay must also reach the recorded
outcome: the result (or error) the Lua code computes during the replay must equal the one in
the history, which shows the code really ran to the end and computed the same values. A copy
of an example with two activity calls swapped must fail to replay (so these tests can fail),
and all histories replay again in a fresh process, where Lua's string-hash seed and table
addresses differ.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.workflow import NondeterminismError

from actors import errors
from actors.errors import Error
from actors.runtime import AppRuntime
from temporal_host import protocol
from temporal_host.driver import WorkflowRun
from temporal_host.settings import WorkerSettings
from temporal_host.worker import build_replayer

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parents[2]
APP = ROOT / "examples" / "seed"
HISTORIES = Path(__file__).parent / "histories"
CLIENT = "app:temporal_client"
WORKER = "app:worker"

Outcome = tuple[str, Any]
"""("completed", value), ("failed", (kind, message)) or ("canceled", None)."""


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


def history_files() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def load_history(path: Path) -> WorkflowHistory:
    document = json.loads(path.read_text())
    return WorkflowHistory.from_json(document["workflow_id"], document["history"])


def recorded_outcome(history: WorkflowHistory) -> Outcome | None:
    """How the recorded run ended; None when the Lua code never finished (a pending timer,
    termination): then only the commands up to that point are checked."""
    last = history.events[-1]
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        payloads = last.workflow_execution_completed_event_attributes.result.payloads
        return "completed", _comparable(protocol.from_payload(payloads[0]))
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        failure = last.workflow_execution_failed_event_attributes.failure
        return "failed", (failure.application_failure_info.type, failure.message)
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        return "canceled", None
    return None


def _comparable(value: Any) -> Any:
    """A result as both sides can agree on: in a `Replayer`, `workflow.info().task_queue` is
    the SDK's own queue, not the recorded one (the info example returns it)."""
    if isinstance(value, dict) and "task_queue" in value:
        return {**value, "task_queue": "<any>"}
    return value


def _outcome(run: WorkflowRun, value: Any, error: Error | None) -> Outcome:
    if error is None:
        return "completed", _comparable(protocol.from_payload(protocol.to_payload(value)))
    if error.kind == errors.CANCELED and run.cancel_requested:
        return "canceled", None
    return "failed", (error.kind, error.message)


@contextlib.contextmanager
def replayed_outcomes() -> Iterator[dict[str, Outcome]]:
    """The outcome each replayed run's Lua code reached, by workflow ID. The driver has no
    hook for it, so `WorkflowRun.finished` is wrapped for the duration."""
    seen: dict[str, Outcome] = {}
    original = WorkflowRun.finished

    def finished(run: WorkflowRun, value: Any, error: Error | None) -> None:
        seen[workflow.info().workflow_id] = _outcome(run, value, error)
        original(run, value, error)

    WorkflowRun.finished = finished  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        WorkflowRun.finished = original  # type: ignore[method-assign]


async def replay(app_dir: Path, histories: list[WorkflowHistory]) -> dict[str, Outcome]:
    """Replay `histories` as the worker of `app_dir` would; raises on nondeterminism."""
    runtime = AppRuntime.load(app_dir)
    assert not runtime.errors, runtime.errors
    task_queue = histories[0].events[0].workflow_execution_started_event_attributes.task_queue
    settings = WorkerSettings.create(runtime, None, CLIENT, WORKER, task_queue.name)
    client = runtime.app.registry.get(CLIENT)
    assert client is not None
    # The client's namespace, as for the real worker (a Replayer's default is its own).
    replayer = build_replayer(settings, namespace=client.data.get("namespace", "default"))
    with replayed_outcomes() as seen:
        for history in histories:
            await replayer.replay_workflow(history)
    return seen


def expected_outcomes(histories: list[WorkflowHistory]) -> dict[str, Outcome]:
    return {
        history.workflow_id: outcome
        for history in histories
        if (outcome := recorded_outcome(history)) is not None
    }


def test_every_workflow_example_has_a_history() -> None:
    """Each workflow entry of the app, the seed's and the support ones, is recorded."""
    runtime = AppRuntime.load(APP)
    workflows = {e.id for e in runtime.app.registry if e.kind == "workflow.lua"}
    recorded = {json.loads(p.read_text())["workflow_type"] for p in history_files()}
    # app:child is only reached after the safe block's hour (README.md); app:child_workflow
    # runs the same code.
    assert workflows - recorded == {"app:child"}


@pytest.mark.parametrize("path", history_files(), ids=lambda p: p.stem)
async def test_history_replays(path: Path) -> None:
    history = load_history(path)
    assert await replay(APP, [history]) == expected_outcomes([history])


async def test_a_reordered_example_fails_to_replay(tmp_path: Path) -> None:
    """The saga with its first two activity calls swapped issues another command first: the
    recorded history must no longer replay."""
    app = shutil.copytree(APP, tmp_path / "seed")
    saga = app / "saga.lua"
    source = saga.read_text()
    reserve = 'funcs.call("app:reserve_inventory", order.items)'
    charge = 'funcs.call("app:charge_payment", order.payment)'
    assert source.count(reserve) == source.count(charge) == 1
    swapped = source.replace(reserve, "<reserve>").replace(charge, reserve)
    saga.write_text(swapped.replace("<reserve>", charge))
    mismatch = "Activity type of scheduled event 'app:reserve_inventory' does not match"
    with pytest.raises(NondeterminismError, match=mismatch):
        await replay(app, [load_history(HISTORIES / "saga_workflow.json")])


_REPLAY_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from tests.temporal.test_replay_histories import APP, load_history, replay

    histories = [load_history(Path(p)) for p in sys.argv[1:]]
    print(json.dumps(asyncio.run(replay(APP, histories))))
    """
)


def test_histories_replay_in_a_fresh_process() -> None:
    """In another process Lua's string-hash seed (taken from addresses and the clock) and
    table addresses differ, and Python's hash seed is random even where the environment pins
    it: `pairs` order and anything address-based must not change what a replay computes."""
    histories = history_files()
    completed = subprocess.run(
        [sys.executable, "-c", _REPLAY_SCRIPT, *map(str, histories)],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "random"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    replayed = json.loads(completed.stdout.strip().splitlines()[-1])
    expected = expected_outcomes([load_history(p) for p in histories])
    assert replayed == json.loads(json.dumps(expected))
