"""Durability: a workflow outlives the worker process running it, and the server's restart.

The app (`tests/apps/durable`) runs on `actors worker` subprocesses against a dev server that
keeps its state in a SQLite file. The workflow calls an activity, sleeps on a durable timer
and calls a second activity. While the timer is pending the worker is SIGKILLed (no shutdown
of any kind) and the server is restarted on the same file; a fresh worker then replays the
history and finishes the run. The history shows which worker ran what: the first activity in
the first worker and never again, the second in the second worker.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle

from temporal_host.embedded import EmbeddedServer
from temporal_host.protocol import DATA_CONVERTER

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parents[2]
APP = ROOT / "tests" / "apps" / "durable"
WORKFLOW = "durable:two_steps"
TASK_QUEUE = "durable"
READY = "actors: worker running"
WORKER_START_TIMEOUT = 60.0
"""A worker imports temporalio and lupa and connects: seconds, more on a loaded machine."""
TIMER_TIMEOUT = 30.0
RESULT_TIMEOUT = 60.0
PAUSE = "4s"
"""The workflow's sleep: long enough to kill the worker while it is pending."""


class WorkerProcess:
    """One `actors worker` subprocess. A task drains its stderr (so the pipe never fills),
    keeps it for failure messages and notices the readiness line."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.output = ""
        self.settled = anyio.Event()
        """Set when the worker said it is running, or its stderr ended (it died)."""

    @property
    def identity(self) -> str:
        """The Temporal identity the worker reports in history: the SDK's `<pid>@<host>`."""
        return f"{self.process.pid}@"

    @property
    def ready(self) -> bool:
        return READY in self.output

    async def drain(self) -> None:
        assert self.process.stderr is not None
        async for chunk in TextReceiveStream(self.process.stderr):
            self.output += chunk
            if self.ready:
                self.settled.set()
        self.settled.set()

    async def kill(self) -> None:
        self.process.kill()  # SIGKILL: no clean-up at all in the worker
        with anyio.fail_after(10):
            code = await self.process.wait()
        assert code == -signal.SIGKILL, f"worker exited with {code}:\n{self.output}"


@contextlib.asynccontextmanager
async def worker_process(address: str, app: Path = APP) -> AsyncIterator[WorkerProcess]:
    """A running worker for `app`; killed on the way out if it is still alive."""
    command = [sys.executable, "-m", "actors.cli", "worker", str(app)]
    command += ["--temporal-address", address]
    process = await anyio.open_process(
        command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    running = WorkerProcess(process)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(running.drain)
            with anyio.move_on_after(WORKER_START_TIMEOUT):
                await running.settled.wait()
            if not running.ready:
                with anyio.move_on_after(5):
                    await process.wait()  # it died, or will be killed on the way out
                raise AssertionError(
                    f"the worker did not start (waited up to {WORKER_START_TIMEOUT:.0f}s; "
                    f"exit code {process.returncode}):\n{running.output}"
                )
            yield running
            tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            if process.returncode is None:
                process.kill()
                await process.wait()
            await process.aclose()


async def wait_for_event(handle: WorkflowHandle, event_type: EventType.ValueType) -> None:
    """Follow the history as it grows (a long poll, not a sleep loop) until `event_type`."""
    async for event in handle.fetch_history_events(wait_new_event=True):
        if event.event_type == event_type:
            return
    raise AssertionError(f"the workflow closed without {EventType.Name(event_type)}")


def activity_identities(events: Sequence[HistoryEvent]) -> list[str]:
    """The identity of the worker that started each activity attempt, in history order."""
    return [
        event.activity_task_started_event_attributes.identity
        for event in events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]


async def test_workflow_survives_a_killed_worker_and_a_server_restart(tmp_path: Path) -> None:
    server = EmbeddedServer(db_filename=tmp_path / "temporal.db")
    order = {"id": "o-1", "items": 3, "pause": PAUSE}
    async with server:
        client = await server.connect(data_converter=DATA_CONVERTER)
        async with worker_process(server.address) as first:
            handle = await client.start_workflow(
                WORKFLOW, order, id=f"durable-{uuid.uuid4().hex[:8]}", task_queue=TASK_QUEUE
            )
            with anyio.move_on_after(TIMER_TIMEOUT):
                await wait_for_event(handle, EventType.EVENT_TYPE_TIMER_STARTED)
            history = await handle.fetch_history()
            kinds = [EventType.Name(event.event_type) for event in history.events]
            assert "EVENT_TYPE_TIMER_STARTED" in kinds, (
                f"no timer within {TIMER_TIMEOUT:.0f}s; history: {kinds}\n{first.output}"
            )
            await first.kill()

        # Same file, same port: what the workflow is and where it stands comes from disk.
        port = int(server.address.rsplit(":", 1)[1])
        await server.stop()
        server.port = port
        await server.start()
        client = await Client.connect(server.address, data_converter=DATA_CONVERTER)
        handle = client.get_workflow_handle(handle.id)

        async with worker_process(server.address) as second:
            with anyio.fail_after(RESULT_TIMEOUT):
                result = await handle.result()
        assert result == {
            "reservation": {"id": "R-o-1", "items": 3},
            "confirmation": "confirmed R-o-1 (3 items)",
        }
        identities = activity_identities((await handle.fetch_history()).events)
        assert len(identities) == 2, f"activity attempts: {identities}"
        assert identities[0].startswith(first.identity), (identities, first.process.pid)
        assert identities[1].startswith(second.identity), (identities, second.process.pid)
