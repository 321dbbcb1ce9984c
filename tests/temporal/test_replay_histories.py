"""Golden replays: the recorded histories of the seed examples must replay without
nondeterminism, so a change to the driver or to an example that would break workflows in
flight fails here. Everything goes through the public `actors.testing` replay API.

`histories/*.json` are recorded by `record_histories.py` (its docstring says when to
re-record). A replay must also reach the recorded outcome: the result (or error) the Lua
code computes during the replay must equal the one in the history, which shows the code
really ran to the end and computed the same values. A copy of an example with two activity
calls swapped must fail with the report a user gets (workflow id, the recorded and the
replayed command, the Lua line, the `workflow.version` advice), and all histories replay
again in a fresh process, where Lua's string-hash seed and table addresses differ.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from actors.runtime import AppRuntime
from actors.testing import (
    NondeterminismFound,
    ReplayResult,
    load_history,
    recorded_outcome,
    replay,
)

ROOT = Path(__file__).parents[2]
APP = ROOT / "examples" / "seed"
HISTORIES = Path(__file__).parent / "histories"


def history_files() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def comparable(outcome: tuple[str, Any] | None) -> Any:
    """An outcome as both sides can agree on: in a replayer, `workflow.info().task_queue` is
    the SDK's own queue, not the recorded one (the info example returns it)."""
    if outcome is None:
        return None
    status, value = outcome
    if isinstance(value, dict) and "task_queue" in value:
        value = {**value, "task_queue": "<any>"}
    return json.loads(json.dumps([status, value]))


def outcomes(results: list[ReplayResult]) -> dict[str, Any]:
    """Replayed and recorded outcome by workflow id, for the runs the history saw finish."""
    return {
        r.history.workflow_id: (comparable(r.outcome), comparable(r.recorded_outcome))
        for r in results
        if r.recorded_outcome is not None
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
def test_history_replays(path: Path) -> None:
    (result,) = replay(APP, [path])
    assert result.ok
    for replayed, recorded in outcomes([result]).values():
        assert replayed == recorded


def test_a_reordered_example_fails_to_replay(tmp_path: Path) -> None:
    """The saga with its first two activity calls swapped issues another command first: the
    recorded history no longer replays, and the report says where and what to do."""
    app = shutil.copytree(APP, tmp_path / "seed")
    saga = app / "saga.lua"
    source = saga.read_text()
    reserve = 'funcs.call("app:reserve_inventory", order.items)'
    charge = 'funcs.call("app:charge_payment", order.payment)'
    assert source.count(reserve) == source.count(charge) == 1
    swapped = source.replace(reserve, "<reserve>").replace(charge, reserve)
    saga.write_text(swapped.replace("<reserve>", charge))
    line = 1 + saga.read_text().splitlines().index(
        next(x for x in saga.read_text().splitlines() if charge in x)
    )
    history = load_history(HISTORIES / "saga_workflow.json")
    with pytest.raises(NondeterminismFound) as found:
        replay(app, [history])
    report = str(found.value)
    assert f"workflow {history.workflow_id!r} (app:saga_workflow) does not replay" in report
    assert "recorded: activity app:reserve_inventory" in report
    assert f"replayed: activity app:charge_payment, issued at saga.lua:{line}" in report
    assert charge in report  # the source line itself
    assert "Activity type of scheduled event 'app:reserve_inventory' does not match" in report
    assert 'workflow.version("<change-id>", 1, 2)' in report


_REPLAY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from tests.temporal.test_replay_histories import APP, outcomes
    from actors.cli import exit_process
    from actors.testing import replay

    print(json.dumps(outcomes(replay(APP, sys.argv[1:]))))
    exit_process(0)  # as the `actors` program ends: see its docstring
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
    finished = [p for p in histories if recorded_outcome(load_history(p).history) is not None]
    assert len(replayed) == len(finished)  # the runs recorded while pending have no outcome
    for workflow_id, (got, recorded) in replayed.items():
        assert got == recorded, workflow_id
