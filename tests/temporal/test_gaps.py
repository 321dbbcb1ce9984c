"""Temporal gaps found by fault and bad-input trials (issue 12 items 4-9, 11): each test runs
the app in `tests/apps/temporal_gaps` with its own worker against the session's dev server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from actors.host import SpawnRequest
from actors.messages import Event
from actors.runtime import AppRuntime
from temporal_host.embedded import EmbeddedServer
from temporal_host.host import WorkflowHost
from temporal_host.worker import build_worker

pytestmark = pytest.mark.anyio

APP = Path(__file__).parents[1] / "apps" / "temporal_gaps"
PROCESSES = "gaps:processes"
WORKER = "gaps:worker"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@attrs.define
class GapsApp:
    runtime: AppRuntime

    @property
    def client(self) -> Client:
        host = self.runtime.node.host(WORKER)
        assert isinstance(host, WorkflowHost)
        return host.client

    async def exit_of(
        self, target: str, *args: Any, host: str = PROCESSES, timeout: float = 30
    ) -> Event:
        node = self.runtime.node
        pid = await node.spawn(host, SpawnRequest(target=target, args=args))
        with anyio.fail_after(timeout):
            return await node.host(host).wait_exit(pid)

    async def value(self, target: str, *args: Any, host: str = PROCESSES) -> Any:
        event = await self.exit_of(target, *args, host=host)
        assert event.error is None, f"{target} failed: {event.error}"
        return event.value


def load(address: str, *overrides: str) -> AppRuntime:
    prefix = f"g{uuid.uuid4().hex[:8]}-"
    runtime = AppRuntime.load(
        APP,
        overrides=[f"gaps:temporal:tq_prefix={prefix}", *overrides],
        settings={"temporal_address": address, "ephemeral": True},
    )
    assert not runtime.errors, runtime.errors
    return runtime


@pytest.fixture(scope="module")
async def app(temporal_server: EmbeddedServer) -> AsyncIterator[GapsApp]:
    runtime = load(temporal_server.address)
    async with runtime.node:
        await runtime.start()
        yield GapsApp(runtime)


# -- item 5: the completion is always the last command ----------------------------------------


async def test_startup_messages_handled_in_one_activation_complete_the_workflow(
    temporal_server: EmbeddedServer,
) -> None:
    """Every startup message is in history before the first workflow task (the worker starts
    after the spawn), so one activation handles them all and the run returns while a reply
    (a local activity) is still in flight: that reply must be recorded before the completion."""
    runtime = load(temporal_server.address, "gaps:worker:lifecycle.auto_start=false")
    async with runtime.node:
        await runtime.start()
        node = runtime.node
        pid = await node.spawn(PROCESSES, SpawnRequest(target="gaps:burst"))
        host = node.host(WORKER)
        assert isinstance(host, WorkflowHost)
        await anyio.sleep(1.0)  # the spawn and its four signals reach the server
        worker = build_worker(
            host.client,
            runtime=runtime,
            client_id="gaps:temporal",
            worker_id=WORKER,
            task_queue=host.connection.settings.task_queue("gaps"),
            worker_options={},
            tq_prefix=host.connection.settings.tq_prefix,
        )
        async with worker:
            with anyio.fail_after(30):
                event = await node.host(PROCESSES).wait_exit(pid)
        assert event.error is None, event.error
        workflow_id = event.value["workflow"]
        history = await host.client.get_workflow_handle(workflow_id).fetch_history()
    assert event.error is None, event.error
    assert event.value["result"] == {"total": 2}  # main ended after the first increment
    kinds = [e.event_type for e in history.events]
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in kinds
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT not in kinds
    assert kinds[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    assert kinds.count(EventType.EVENT_TYPE_MARKER_RECORDED) >= 3


# -- item 6: configuration mistakes at spawn; a workflow that cannot load fails ---------------


async def test_misconfigured_workflows_are_refused_at_spawn(app: GapsApp) -> None:
    out = await app.value("gaps:bad_spawns")
    assert {name: result["kind"] for name, result in out.items()} == {
        "no_worker": "Invalid",
        "ghost_worker": "Invalid",
        "broken": "Invalid",
    }
    assert all("pid" not in result for result in out.values())
    assert "names no worker" in out["no_worker"]["message"]
    assert "gaps:nope is not a temporal.worker" in out["ghost_worker"]["message"]
    assert "broken.lua:3" in out["broken"]["message"]


async def test_a_workflow_that_cannot_load_fails_with_exit(app: GapsApp) -> None:
    out = await app.value("gaps:load_failure", "gaps:raises_on_load")
    assert out["kind"] == "pid.exit" and out["error_kind"] == "Internal"
    assert "no configuration for this workflow" in out["message"]


@pytest.mark.parametrize(
    ("workflow_type", "kind", "message"),
    [
        ("gaps:broken", "Invalid", "cannot load gaps:broken"),
        ("gaps:no_such_workflow", "NotFound", "is not registered on gaps:worker"),
    ],
)
async def test_a_workflow_started_elsewhere_that_cannot_load_fails(
    app: GapsApp, workflow_type: str, kind: str, message: str
) -> None:
    """Started past the spawn checks (another client, the CLI): the run fails at once
    instead of failing its task on every retry."""
    host = app.runtime.node.host(WORKER)
    assert isinstance(host, WorkflowHost)
    handle = await app.client.start_workflow(
        workflow_type,
        id=f"load-{uuid.uuid4().hex[:8]}",
        task_queue=host.connection.settings.task_queue("gaps"),
    )
    with anyio.fail_after(20), pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == kind and message in cause.message
