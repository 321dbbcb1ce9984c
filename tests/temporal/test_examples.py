"""The example apps of the guides, run as a reader runs them: `actors` in a subprocess,
the Temporal dev server started by the app itself (`address: embedded`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"


def copy_example(name: str, tmp_path: Path) -> Path:
    """A copy, so the server's state folder (`.actors/`) lands in tmp, not in the repo."""
    app = tmp_path / name
    shutil.copytree(EXAMPLES / name, app, ignore=shutil.ignore_patterns(".actors"))
    return app


def test_hello(tmp_path: Path) -> None:
    """docs/guide/getting-started.md: `hello:main` spawns `hello:greeter` (a local process)
    and `hello:reminder` (a workflow that sleeps, then asks the greeter by PID)."""
    app = copy_example("hello", tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "actors.cli", "run", str(app), "hello"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "greeter says: Hello, local world!",
        "reminder says: Hello, durable world!",
    ]
    assert "Traceback" not in result.stderr


def actors_exec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actors.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


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
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "python_api" / "main.py")],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "clerk: shipped ['book', 'pen'], missing ['book']",
        "inventory: left {'book': 0, 'pen': 1}, heard shipped ['book', 'pen']",
    ]
    assert "Traceback" not in result.stderr
