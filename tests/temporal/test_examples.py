"""The example apps of the guides, run as a reader runs them: `actors` in a subprocess,
the Temporal dev server started by the app itself (`address: embedded`)."""

from __future__ import annotations

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
