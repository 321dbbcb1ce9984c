"""`actors run` (worker and the monitoring process in one) SIGKILLed in the middle of an
activity, with default options, and run again: the workflow completes within 30 s."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from anyio.streams.text import TextReceiveStream

from tests.faults.conftest import report

pytestmark = pytest.mark.anyio

APP = Path(__file__).parents[1] / "apps" / "faults"
ROOT = Path(__file__).parents[2]


async def test_a_killed_actors_run_finishes_the_workflow_when_run_again(tmp_path: Path) -> None:
    app = tmp_path / "faults"
    shutil.copytree(APP, app)
    command = [sys.executable, "-m", "actors.cli", "run", str(app), "faults:starter"]
    first = await anyio.open_process(command, cwd=ROOT, stdin=subprocess.DEVNULL)
    output = ""
    assert first.stderr is not None  # what the process prints is logged there
    with anyio.fail_after(90):
        async for chunk in TextReceiveStream(first.stderr):
            output += chunk
            if "started" in output:
                break
    await anyio.sleep(2.0)  # inside the first 3-second activity
    first.send_signal(signal.SIGKILL)
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    restarted = time.monotonic()
    with anyio.fail_after(120):
        second = await anyio.run_process(command, cwd=ROOT, stdin=subprocess.DEVNULL, check=False)
    elapsed = time.monotonic() - restarted
    stderr = second.stderr.decode()
    assert second.returncode == 0, stderr[-2000:]
    result = [line.split("result ", 1)[1] for line in stderr.splitlines() if "result " in line]
    assert [json.loads(line) for line in result] == [{"n": 5, "total": 156}]
    report("actors_run_kill", "completed_after_restart_s", round(elapsed, 1))
    assert elapsed < 30 + 15  # 30 s for the workflow, plus starting the app and its server
