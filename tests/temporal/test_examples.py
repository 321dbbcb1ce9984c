"""The example apps of the guides, run as a reader runs them: `actors` in a subprocess,
the Temporal dev server started by the app itself (`address: embedded`); and the golden
histories of their workflows (`record_example_histories.py`) replayed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from actors.registry import load_app
from actors.testing import NondeterminismFound, replay
from tests.temporal.record_example_histories import EXAMPLES as RECORDED
from tests.temporal.record_example_histories import HISTORIES

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE_APPS = ("hello", "python_api")


def copy_example(name: str, tmp_path: Path) -> Path:
    """A copy, so the server's state folder (`.actors/`) lands in tmp, not in the repo."""
    app = tmp_path / name
    shutil.copytree(EXAMPLES / name, app, ignore=shutil.ignore_patterns(".actors"))
    return app


def run_python(*args: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS...` as a reader would run it: no stdin, output captured."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def actors_exec(*args: str) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "actors.cli", *args)


def test_hello(tmp_path: Path) -> None:
    """docs/guide/getting-started.md: `hello:main` spawns `hello:greeter` (a local process)
    and `hello:reminder` (a workflow that sleeps, then asks the greeter by PID)."""
    app = copy_example("hello", tmp_path)
    # Its own task queue: when port 7233 is free the app's dev server takes it, and another
    # run of this example on this machine must never see these workflows.
    queue = f"--override=hello:worker:task_queue=hello-{uuid.uuid4()}"
    result = actors_exec("run", queue, str(app), "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "greeter says: Hello, local world!",
        "reminder says: Hello, durable world!",
    ]
    assert "Traceback" not in result.stderr


def test_logs_of_a_failing_activity(tmp_path: Path) -> None:
    """An activity failing as designed is one plain log line; stdout stays the JSON result;
    `-v` adds the runtime's debug lines but no protobuf dumps of the SDK."""
    app = copy_example("seed", tmp_path)
    for verbose in ((), ("-v",)):
        result = actors_exec(*verbose, "exec", str(app), "app:failure_modes_workflow")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["kind"] == "Internal"
        failures = [line for line in result.stderr.splitlines() if "failed (attempt" in line]
        assert len(failures) == 1, result.stderr
        assert "activity app:unreliable_activity failed (attempt 1, workflow " in failures[0]
        assert failures[0].endswith("unreliable_activity: connection reset")
        assert "\x1b[" not in result.stderr
        assert "jobs {" not in result.stderr and "WorkflowActivation" not in result.stderr
    assert "Traceback" in result.stderr  # -v keeps the traceback of the failure


def test_python_api() -> None:
    """examples/python_api/main.py: the Python process `inventory`, the Lua process
    `shop:clerk` and the workflow `shop:shipment` exchange messages by PID."""
    result = run_python(str(EXAMPLES / "python_api" / "main.py"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "clerk: shipped ['book', 'pen'], missing ['book']",
        "inventory: left {'book': 0, 'pen': 1}, heard shipped ['book', 'pen']",
    ]
    assert "Traceback" not in result.stderr


def test_every_example_workflow_has_a_history() -> None:
    recorded = {entry for _, entry, _, _ in RECORDED.values()}
    for folder in EXAMPLE_APPS:
        registry = load_app(EXAMPLES / folder).registry
        workflows = {e.id for e in registry if e.kind == "workflow.lua"}
        assert workflows <= recorded, workflows - recorded


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_example_history_replays(name: str) -> None:
    folder = RECORDED[name][0]
    (result,) = replay(EXAMPLES / folder, [HISTORIES / f"{name}.json"])
    assert result.ok
    assert result.recorded_outcome is not None
    assert result.outcome == result.recorded_outcome


def test_a_changed_example_fails_to_replay(tmp_path: Path) -> None:
    """The reminder without its durable sleep issues another first command: its recorded
    history must no longer replay (so the replay test can fail)."""
    app = copy_example("hello", tmp_path)
    source = (app / "reminder.lua").read_text()
    assert source.count("time.sleep(request.delay)") == 1
    (app / "reminder.lua").write_text(source.replace("time.sleep(request.delay)", ""))
    with pytest.raises(NondeterminismFound, match="hello:reminder"):
        replay(app, [HISTORIES / "hello_reminder.json"])
