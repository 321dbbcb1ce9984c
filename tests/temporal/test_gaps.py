"""Temporal gaps found by fault and bad-input trials (issue 12 items 4-9, 11): each test runs
the app in `tests/apps/temporal_gaps` with its own worker against the session's dev server."""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RawValue, SearchAttributeKey
from temporalio.exceptions import ApplicationError

from actors.host import SpawnRequest
from actors.messages import Event
from actors.runtime import AppRuntime
from temporal_host import limits
from temporal_host.embedded import EmbeddedServer
from temporal_host.host import WorkflowHost
from temporal_host.protocol import to_payload
from temporal_host.worker import build_worker
from tests.temporal.test_durability import worker_process

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


def load(address: str | None, *overrides: str) -> AppRuntime:
    """The app against `address` (None: on its own in-memory embedded server)."""
    prefix = f"g{uuid.uuid4().hex[:8]}-"
    settings: dict[str, Any] = {"ephemeral": True}
    if address is not None:
        settings["temporal_address"] = address
    runtime = AppRuntime.load(
        APP, overrides=[f"gaps:temporal:tq_prefix={prefix}", *overrides], settings=settings
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


# -- item 4: search attributes ------------------------------------------------------------------


async def history_kinds(client: Client, workflow_id: str) -> list[int]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [event.event_type for event in history.events]


async def test_an_unknown_search_attribute_is_an_error_on_a_real_server(app: GapsApp) -> None:
    """The session's server stands for a real cluster: nothing is registered on the fly."""
    event = await app.exit_of("gaps:attrs", {"gaps_never_registered": "x"}, host=WORKER)
    assert event.error is None, event.error
    assert event.value["kind"] == "Invalid"
    assert "search attribute gaps_never_registered is not registered" in event.value["error"]
    kinds = await history_kinds(app.client, event.source.id)
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in kinds
    out = await app.value("gaps:attrs_at_start", {"gaps_never_registered": "x"})
    assert out["kind"] == "Invalid" and "gaps_never_registered" in out["error"]


async def test_declared_search_attributes_are_registered_and_types_must_match(
    app: GapsApp,
) -> None:
    event = await app.exit_of("gaps:attrs", {"gaps_declared": "yes"}, host=WORKER)
    assert event.value == {"ok": True, "again": True}
    event = await app.exit_of("gaps:attrs", {"gaps_declared": 3}, host=WORKER)
    assert event.value["kind"] == "Invalid"
    assert (
        "gaps_declared is registered as Keyword, but the value given is a Int"
        in (event.value["error"])
    )


async def test_the_embedded_server_registers_attributes_as_they_are_used() -> None:
    runtime = load(None)
    async with runtime.node:
        await runtime.start()
        gaps = GapsApp(runtime)
        search = {"status": "processing", "order_total": 99.5, "tags": ["a", "b"]}
        event = await gaps.exit_of("gaps:attrs", search, host=WORKER)
        assert event.value == {"ok": True, "again": True}
        out = await gaps.value("gaps:attrs_at_start", {"region": "eu", "priority": 2})
        described = [
            await gaps.client.get_workflow_handle(workflow_id).describe()
            for workflow_id in (event.source.id, out["workflow"])
        ]
    attributes = described[0].typed_search_attributes
    assert attributes.get(SearchAttributeKey.for_keyword("status")) == "processing"
    assert attributes.get(SearchAttributeKey.for_float("order_total")) == 99.5
    assert attributes.get(SearchAttributeKey.for_keyword_list("tags")) == ["a", "b"]
    assert await described[0].memo() == {"note": "set by attrs"}
    started = described[1].typed_search_attributes
    assert started.get(SearchAttributeKey.for_keyword("region")) == "eu"
    assert started.get(SearchAttributeKey.for_int("priority")) == 2


# -- item 9: automatic activity heartbeat ----------------------------------------------------


async def scheduled_heartbeat(client: Client, workflow_id: str) -> float:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    return scheduled[0].heartbeat_timeout.ToTimedelta().total_seconds()


async def test_activities_get_a_default_heartbeat_timeout(app: GapsApp) -> None:
    event = await app.exit_of("gaps:call_slow", 10, host=WORKER)
    assert event.value == {"result": 10}
    assert await scheduled_heartbeat(app.client, event.source.id) == 10.0


async def test_the_runtime_heartbeats_while_the_lua_activity_runs(app: GapsApp) -> None:
    """2.5 s of work under a 1 s heartbeat timeout: alive only through the automatic beat."""
    options = {"activity.heartbeat_timeout": "1s", "activity.retry_policy": {"maximum_attempts": 1}}
    event = await app.exit_of("gaps:call_slow", 2500, options, host=WORKER)
    assert event.value == {"result": 2500}
    assert await scheduled_heartbeat(app.client, event.source.id) == 1.0


# -- item 8: one send classification -----------------------------------------------------------


async def test_every_send_path_refuses_what_can_never_succeed_as_invalid(app: GapsApp) -> None:
    """From a local process to a local process and to a workflow, then from a workflow to
    both: the same kinds, never retryable, never a plain string; targets keep working."""
    out = await app.value("gaps:bad_sends")
    assert out.pop("counts") == {"local": 6, "workflow": 3}  # good ones and long topics
    in_workflow = out.pop("from_workflow")
    for target, cases in [*out.items(), *in_workflow.items()]:
        assert cases["deep"]["kind"] == "Invalid", (target, cases)
        assert "nested deeper than 128" in cases["deep"]["message"]
        assert cases["numeric_topic"]["message"] == "topic must be a string, not a number"
        for case in cases.values():
            assert "plain" not in case and "raised" not in case, (target, cases)
            assert case.get("ok") or (case["kind"] == "Invalid" and not case["retryable"])
    for cases in (out["workflow"], in_workflow["workflow"], in_workflow["local"]):
        assert "payloads are JSON" in cases["sparse"]["message"]
        assert "payloads are JSON" in cases["mixed"]["message"]
    assert "exceeds Temporal's payload limit of 2097152 bytes" in out["workflow"]["huge"]["message"]
    assert "exceeds Temporal's payload limit" in in_workflow["workflow"]["huge"]["message"]
    # Local processes take any Lua table shape and any size.
    assert out["local"]["sparse"] == out["local"]["mixed"] == out["local"]["huge"] == {"ok": True}


# -- item 11: diagnosis ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'workflow.version("pricing", 1, 2)',
            'workflow.version("pricing", 3, 4)',
            "unsupported version 2 of change pricing: this code supports 3..4",
        ),
        (
            'time.sleep("2s")',
            'require("funcs").call("gaps:slow", 1)\n    time.sleep("2s")',
            "non-deterministic workflow code: ",
        ),
    ],
    ids=["version", "nondeterminism"],
)
async def test_code_changed_under_a_running_workflow_is_said_once(
    temporal_server: EmbeddedServer, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """The workflow starts on this node and sleeps; the code changes; an `actors worker`
    (logging as a deployed worker does, the SDK core's records included) replays it, and
    its task fails on every attempt: one line says why, naming the workflow."""
    app = tmp_path / "gaps"
    shutil.copytree(APP, app)
    prefix = f"v{uuid.uuid4().hex[:8]}-"
    index = app / "_index.yaml"
    index.write_text(index.read_text().replace("address: embedded", f"tq_prefix: {prefix}"))
    first = load_app(app, temporal_server.address)
    async with first.node:
        await first.start()
        pid = await first.node.spawn(WORKER, SpawnRequest("gaps:versioned"))
        handle = GapsApp(first).client.get_workflow_handle(pid.id)
        with anyio.fail_after(20):
            async for event in handle.fetch_history_events(wait_new_event=True):
                if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
                    break
    source = app / "versioned.lua"
    source.write_text(source.read_text().replace(old, new))
    async with worker_process(temporal_server.address, app) as second:
        await anyio.sleep(10)  # the timer fires; the task fails, and is retried
    client = await Client.connect(temporal_server.address)
    kinds = await history_kinds(client, pid.id)
    await client.get_workflow_handle(pid.id).terminate("test cleanup")
    lines = [line for line in second.output.splitlines() if "temporal_host.diagnosis" in line]
    assert len(lines) == 1, second.output[-3000:]
    assert f"workflow {pid.id}: " in lines[0] and expected in lines[0], lines
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED not in kinds
    assert "Traceback" not in second.output


def load_app(app: Path, address: str) -> AppRuntime:
    runtime = AppRuntime.load(app, settings={"temporal_address": address, "ephemeral": True})
    assert not runtime.errors, runtime.errors
    return runtime


# -- temporal.md §18: queue-size warnings --------------------------------------------------------


async def test_a_growing_mailbox_warns_at_each_multiple_and_drops_nothing(
    app: GapsApp, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step is lowered from 10 000 to 40 so the test sends 100 messages, not 25 000."""
    monkeypatch.setattr(limits, "QUEUE_WARNING_MESSAGES", 40)
    node = app.runtime.node
    pid = await node.spawn(WORKER, SpawnRequest("gaps:deaf", ("3s",)))
    handle = app.client.get_workflow_handle(pid.id)
    with caplog.at_level(logging.WARNING):
        for i in range(100):
            await handle.signal("m", RawValue(to_payload(i)))
        await handle.signal("go")
        with anyio.fail_after(30):
            assert await handle.result() == 100
    warnings = [
        r.getMessage() for r in caplog.records if "waiting to be received" in r.getMessage()
    ]
    assert [w.split(": ", 1)[1].split(" ")[0] for w in warnings] == ["40", "80"], warnings
