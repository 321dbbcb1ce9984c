"""Every Lua example of the workflow description (the seed), run against a real dev server.

`examples/seed` holds the examples as written, completed into one app (its README says what
was completed and which examples cannot run as written). The module boots that app against
the session's dev server (`conftest.py`) with the app's own worker, runs every example and
asserts what really happens: results, EXIT and LINK_DOWN events, errors with their kind and
retryability, messages, context, deduplication and conflicts, cancellation, termination.
Examples that sleep for hours are run until their durable timer is pending, which the
workflow's history shows (`SeedApp.first_event`).

`SeedApp` is shared with `record_histories.py`, which records the golden histories replayed
by `test_replay_histories.py`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
from temporalio.api.enums.v1 import EventType, IndexedValueType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from actors.host import SpawnRequest
from actors.messages import Event
from actors.pid import PID
from actors.registry import Entry
from actors.runtime import AppRuntime
from corelib import uuids
from temporal_host import protocol
from temporal_host.embedded import EmbeddedServer
from temporal_host.host import WorkflowHost

pytestmark = pytest.mark.anyio

APP = Path(__file__).parents[2] / "examples" / "seed"
CLIENT = "app:temporal_client"
PROCESSES = "app:processes"
WORKER = "app:worker"
GATEWAY = "app:gateway"
TIMEOUT = 60.0
"""Seconds any one example may take (timers of the dev server round up to about 1 s)."""

FULL_ORDER = {"id": "E1", "total": 99.5, "customer_id": "c-1", "shipping_address": "Main st 1"}
"""An order the order workflow charges before its one-hour sleep."""
NO_AMOUNT = {"status": "failed", "error": "charge_payment: amount is required"}
"""The order workflow's result for the spawning examples' input `{order_id = ...}`: without a
total the charge is refused (not retryable) and the workflow returns at once."""
SAGA_ORDER = {
    "items": ["book", "lamp"],
    "payment": {"amount": 30, "customer": "c-3"},
    "shipping": {"order_id": "s-1", "address": "Main st 1"},
}
"""An order the saga reserves, charges and ships (without `payment.amount` the charge fails)."""


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"  # one loop for the module: the booted app outlives single tests


# -- the booted app -------------------------------------------------------------------------------


@attrs.define
class SeedApp:
    """`examples/seed` booted on a node, its client and worker on a given server."""

    runtime: AppRuntime

    @property
    def client(self) -> Client:
        host = self.runtime.node.host(WORKER)
        assert isinstance(host, WorkflowHost)
        return host.client

    async def exit_of(self, target: str, *args: Any, host: str = PROCESSES) -> tuple[PID, Event]:
        """Spawn entry `target` on `host` (a workflow on the worker) and await its EXIT."""
        node = self.runtime.node
        pid = await node.spawn(host, SpawnRequest(target=target, args=args))
        with anyio.fail_after(TIMEOUT):
            return pid, await node.host(host).wait_exit(pid)

    async def value(self, target: str, *args: Any, host: str = PROCESSES) -> Any:
        """The result of `target`; its failure fails the test."""
        _, event = await self.exit_of(target, *args, host=host)
        assert event.error is None, f"{target} failed: {event.error}"
        return event.value

    async def workflow(self, target: str, *args: Any) -> Any:
        """The result of workflow entry `target`, started on the worker."""
        return await self.value(target, *args, host=WORKER)

    async def start(self, target: str, *args: Any) -> str:
        """Start workflow entry `target` on the worker; its workflow ID."""
        pid = await self.runtime.node.spawn(WORKER, SpawnRequest(target=target, args=args))
        return pid.id

    def handle(self, pid_or_id: str) -> WorkflowHandle:
        """The handle of a workflow given by PID string or workflow ID."""
        workflow_id = PID.parse(pid_or_id).id if PID.is_pid_string(pid_or_id) else pid_or_id
        return self.client.get_workflow_handle(workflow_id)

    async def first_event(self, pid_or_id: str, event_type: EventType.ValueType) -> HistoryEvent:
        """The first event of `event_type` in the workflow's history, long-polling for it."""
        with anyio.fail_after(TIMEOUT):
            async for event in self.handle(pid_or_id).fetch_history_events(wait_new_event=True):
                if event.event_type == event_type:
                    return event
        raise AssertionError(f"{pid_or_id} closed without {EventType.Name(event_type)}")

    async def closed(self, pid_or_id: str) -> None:
        """Wait until the workflow has closed, however it ended (the long poll of its
        history ends with the close event)."""
        with anyio.fail_after(TIMEOUT):
            async for _ in self.handle(pid_or_id).fetch_history_events(wait_new_event=True):
                pass

    async def terminate(self, pid_or_id: str) -> None:
        """End a workflow left running (one sleeping for hours)."""
        with contextlib.suppress(RPCError):  # already closed
            await self.handle(pid_or_id).terminate("test cleanup")


@contextlib.asynccontextmanager
async def booted_seed_app(address: str | None = None) -> AsyncIterator[SeedApp]:
    """The app with its client at `address` (None keeps `embedded`: an in-memory dev server
    started by the Temporal plugin, with the YAML's search attributes)."""
    settings: dict[str, Any] = {"ephemeral": True}
    if address is not None:
        settings["temporal_address"] = address
    # The HTTP gateway on a free port: runs of the suite side by side must not collide.
    runtime = AppRuntime.load(APP, settings=settings, overrides=[f"{GATEWAY}:addr=127.0.0.1:0"])
    assert not runtime.errors, runtime.errors
    async with runtime.node:
        await runtime.start()
        yield SeedApp(runtime)


def search_attribute_types(runtime: AppRuntime) -> dict[str, str]:
    """The client's `embedded.search_attributes` (name → type name, e.g. `Keyword`)."""
    client = runtime.app.registry.get(CLIENT)
    assert client is not None
    return dict(client.data["embedded"]["search_attributes"])


async def register_search_attributes(client: Client, types: dict[str, str]) -> None:
    """Register the app's search attributes on a server the app did not start, as
    `temporal operator search-attribute create` would (the session's server has none)."""
    request = AddSearchAttributesRequest(
        namespace=client.namespace,
        search_attributes={
            name: IndexedValueType.Value(
                "INDEXED_VALUE_TYPE_" + re.sub(r"(?<!^)(?=[A-Z])", "_", kind).upper()
            )
            for name, kind in types.items()
        },
    )
    try:
        await client.operator_service.add_search_attributes(request)
    except RPCError as exc:
        if exc.status != RPCStatusCode.ALREADY_EXISTS:
            raise


@pytest.fixture(scope="module")
async def app(temporal_server: EmbeddedServer) -> AsyncIterator[SeedApp]:
    async with booted_seed_app(temporal_server.address) as seed:
        await register_search_attributes(seed.client, search_attribute_types(seed.runtime))
        yield seed


# -- "Определение", "Базовая реализация" --------------------------------------------------------


async def test_order_workflow_charges_then_sleeps_an_hour(app: SeedApp) -> None:
    workflow_id = await app.start("app:order_workflow", FULL_ORDER)
    timer = await app.first_event(workflow_id, EventType.EVENT_TYPE_TIMER_STARTED)
    attributes = timer.timer_started_event_attributes
    assert attributes.start_to_fire_timeout.ToTimedelta() == timedelta(hours=1)
    completed = await app.first_event(workflow_id, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
    payment = completed.activity_task_completed_event_attributes.result.payloads[0]
    assert protocol.from_payload(payment) == {"id": "pay-c-1", "amount": 99.5}
    await app.terminate(workflow_id)


# -- "Модуль workflow" ----------------------------------------------------------------------------


async def test_workflow_info(app: SeedApp) -> None:
    pid, event = await app.exit_of("app:info_workflow", host=WORKER)
    info = event.value
    assert info["workflow_id"] == pid.id
    assert info["run_id"] == (await app.handle(pid.id).describe()).run_id
    assert (info["workflow_type"], info["task_queue"], info["namespace"]) == (
        "app:info_workflow",
        "app-seed",
        "default",
    )
    assert info["attempt"] == 1 and info["history_length"] >= 3 and info["history_size"] > 0


async def test_workflow_exec_returns_the_child_result(app: SeedApp) -> None:
    assert await app.workflow("app:exec_workflow", {"x": 1}) == {"received": {"x": 1}}


async def test_workflow_version_takes_the_newest_branch(app: SeedApp) -> None:
    pid, event = await app.exit_of("app:version_workflow", {"amount": 3}, host=WORKER)
    assert event.value == {"method": "new", "input": {"amount": 3}}
    marker = await app.first_event(pid.id, EventType.EVENT_TYPE_MARKER_RECORDED)
    assert b"payment-v2#v2" in marker.SerializeToString()


async def test_workflow_attrs_sets_search_attributes_and_memo(app: SeedApp) -> None:
    order = {"customer_id": "c-9", "total": 99.5}
    pid, event = await app.exit_of("app:attrs_workflow", order, host=WORKER)
    assert event.value == {"status": "processing"}
    description = await app.handle(pid.id).describe()
    attributes = description.typed_search_attributes
    assert attributes.get(SearchAttributeKey.for_keyword("status")) == "processing"
    assert attributes.get(SearchAttributeKey.for_keyword("customer_id")) == "c-9"
    assert attributes.get(SearchAttributeKey.for_float("order_total")) == 99.5
    assert await description.memo() == {"notes": "Priority customer", "source": "web"}


async def test_the_app_runs_on_its_own_embedded_server() -> None:
    """As shipped (`address: embedded`): the plugin starts a dev server that registers the
    YAML's search attributes, so `workflow.attrs` works out of the box."""
    async with booted_seed_app() as own:
        pid, event = await own.exit_of("app:attrs_workflow", {"total": 5.5}, host=WORKER)
        assert event.error is None, event.error
        description = await own.handle(pid.id).describe()
        total = SearchAttributeKey.for_float("order_total")
        assert description.typed_search_attributes.get(total) == 5.5


async def test_history_length_and_size(app: SeedApp) -> None:
    result = await app.workflow("app:history_workflow")
    assert result["length"] >= 3 and result["size"] > 0


# -- "Запуск workflow" ----------------------------------------------------------------------------


async def test_spawn_returns_a_workflow_pid(app: SeedApp) -> None:
    pid = await app.value("app:spawn")
    assert pid.startswith(f"{{{CLIENT}@{WORKER}|")
    with anyio.fail_after(TIMEOUT):
        assert await app.handle(pid).result() == NO_AMOUNT


async def test_spawn_monitored_delivers_exit(app: SeedApp) -> None:
    out = await app.value("app:spawn_monitored")
    assert out["from"] == out["pid"]
    assert out["result"] == NO_AMOUNT and "error" not in out


async def test_spawn_with_a_name_deduplicates(app: SeedApp) -> None:
    order = {"id": "N1"}
    async with anyio.create_task_group() as group:
        outs: list[Any] = []

        async def spawn() -> None:
            outs.append(await app.value("app:spawn_named", order))

        group.start_soon(spawn)
        group.start_soon(spawn)
    assert outs[0] == outs[1] == {"pid": f"{{{CLIENT}@{WORKER}|order-N1}}", "result": NO_AMOUNT}


async def test_spawn_with_an_explicit_id(app: SeedApp) -> None:
    order = {**FULL_ORDER, "id": "X1"}
    pid = await app.value("app:spawn_explicit_id", order)
    assert pid == f"{{{CLIENT}@{WORKER}|order-X1}}"
    await app.first_event(pid, EventType.EVENT_TYPE_TIMER_STARTED)
    assert (await app.handle(pid).describe()).status == WorkflowExecutionStatus.RUNNING
    await app.terminate(pid)


async def test_id_conflict_policies_and_start_options(app: SeedApp) -> None:
    """All on the workflow ID `order-123`, so in sequence."""
    pid = f"{{{CLIENT}@{WORKER}|order-123}}"
    already = {
        "kind": "AlreadyExists",
        "retryable": False,
        "message": "workflow already started: order-123",
    }
    assert await app.value("app:conflict_fail", FULL_ORDER) == {"pid": pid}
    assert await app.value("app:conflict_error_when_started", FULL_ORDER) == already
    assert await app.value("app:conflict_reuse", FULL_ORDER) == {"pid": pid}
    assert await app.value("app:conflict_fail", FULL_ORDER) == already
    await app.terminate(pid)
    # The server refuses the options block as written (README.md), whatever runs.
    assert await app.value("app:start_options", FULL_ORDER) == {
        "kind": "Invalid",
        "retryable": False,
        "message": "cannot start workflow order-123: "
        "CronSchedule and WorkflowStartDelay may not be used together.",
    }


async def test_startup_messages_arrive_first_and_in_order(app: SeedApp) -> None:
    out = await app.value("app:startup_messages")
    assert out["pid"] == f"{{{CLIENT}@{WORKER}|counter-workflow}}"
    assert out["values"] == [2, 3, 7]
    assert out["result"] == {"final_counter": 7}


async def test_startup_messages_reach_an_existing_workflow(app: SeedApp) -> None:
    out = await app.value("app:startup_messages_reuse")
    assert out["pid"] == out["pid2"] == f"{{{CLIENT}@{WORKER}|my-counter}}"
    assert out["values"] == [3, 5]  # the second input, {initial = 999}, was ignored
    assert out["result"] == {"final_counter": 5}


async def test_context_travels_to_the_workflow_and_its_activities(app: SeedApp) -> None:
    context = {"user_id": "user-1", "tenant": "tenant-1", "request_id": "req-abc"}
    pid = await app.value("app:context_spawn", FULL_ORDER)
    started = await app.first_event(pid, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    header = started.workflow_execution_started_event_attributes.header.fields
    assert protocol.read_context(header) == (context, None)
    scheduled = await app.first_event(pid, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    header = scheduled.activity_task_scheduled_event_attributes.header.fields
    assert protocol.read_context(header) == (context, None)
    await app.terminate(pid)

    seen = await app.value("app:call_context_read")
    read = {"user_id": "user-1", "tenant": "tenant-1", "all": context}
    assert seen["result"] == {**read, "activity": read}


# -- "Сигналы" ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([["hello", {}], ["approve", {}]], {"status": "approved", "tracking": "TRK-o-7"}),
        (
            [["cancel", {"reason": "changed mind"}]],
            {"status": "cancelled", "reason": "changed mind"},
        ),
    ],
    ids=["approve", "cancel"],
)
async def test_inbox_pattern(app: SeedApp, messages: list[Any], expected: Any) -> None:
    order = {"id": "o-7", "shipping_address": "Main st 1"}
    out = await app.value("app:call_inbox", order, messages)
    assert out["result"] == expected


async def test_listen_by_topic(app: SeedApp) -> None:
    out = await app.value("app:call_jobs", [{"id": 1}, {"id": 2, "urgent": True}])
    assert out["result"] == {
        "total_jobs": 2,
        "results": [
            {"job_id": 1, "result": {"job_id": 1, "data": {"id": 1}}},
            {"job_id": 2, "result": {"job_id": 2, "data": {"id": 2, "urgent": True}}},
        ],
    }


async def test_listen_with_message_objects_names_the_sender(app: SeedApp) -> None:
    out = await app.value("app:call_request")
    assert out["result"] == {"sender": out["me"], "data": {"question": "status?"}}


async def test_signal_handlers_in_coroutines(app: SeedApp) -> None:
    requests = [
        ["increment", {"amount": 5}],
        ["decrement", {"amount": 2}],
        ["decrement", {"amount": 10}],
        ["increment", {"amount": "x"}],
        ["finish", None],
    ]
    out = await app.value("app:call_counter", requests)
    assert out["replies"] == [
        ["ack"],
        ["ok", {"value": 5}],
        ["ack"],
        ["ok", {"value": 3}],
        ["nak", "would result in negative value"],
        ["nak", "amount must be a number"],
        ["ack"],
        ["ok", {"message": "finishing"}],
    ]
    assert out["result"] == {"final_counter": 3}


async def test_signal_acknowledgement(app: SeedApp) -> None:
    out = await app.value("app:ack_caller")
    assert out["status"] == {"status": "processing", "progress": 75}
    with anyio.fail_after(TIMEOUT):
        assert await app.handle(out["workflow"]).result() == "answered"


async def test_signals_between_workflows(app: SeedApp) -> None:
    out = await app.value("app:call_ping")
    receiver = out["receiver"]
    sender = out["receiver_exit"]["result"]["pinged_by"]
    assert sender.startswith(f"{{{CLIENT}@{WORKER}|") and sender != receiver
    assert out["sender_result"] == {
        "ok": True,
        "received": {"echo": {"data": "hello"}, "from": receiver},
    }


# -- "Дочерние workflow" --------------------------------------------------------------------------


async def test_async_child_exit_event(app: SeedApp) -> None:
    pid, event = await app.exit_of("app:async_child_workflow", host=WORKER)
    out = event.value
    run_id = (await app.handle(pid.id).describe()).run_id
    assert out["child_pid"] == out["from"] == f"{{{CLIENT}@{WORKER}|{run_id}_1}}"
    assert out["result"] == {"received": {"message": "hello from parent"}}
    assert "error" not in out


async def test_child_error_in_exit_event(app: SeedApp) -> None:
    out = await app.workflow("app:error_child_parent_workflow")
    assert out == {"kind": "NotFound", "retryable": False, "message": "order not found"}


async def test_process_exec_of_a_workflow(app: SeedApp) -> None:
    assert await app.workflow("app:process_exec_workflow") == "hello, world"


# -- "Мониторинг и связывание", "Завершение и отмена" ---------------------------------------------


async def test_monitor_after_spawn(app: SeedApp) -> None:
    out = await app.value("app:monitor_after")
    assert out["monitored"] is True and out["kind"] == "pid.exit" and out["from"] == out["pid"]
    assert out["result"] == {"iterations": 100}


async def test_link_after_spawn_then_terminate(app: SeedApp) -> None:
    out = await app.value("app:link_after")
    assert out["linked"] is True and out["kind"] == "pid.link.down" and out["from"] == out["pid"]
    assert out["error"] == {"kind": "Canceled", "message": "workflow terminated"}


async def test_unmonitor_and_unlink_stop_events(app: SeedApp) -> None:
    out = await app.value("app:unmonitor_unlink")
    assert out == {"kind": "pid.exit", "error": "workflow terminated", "extra_event": False}


async def test_terminate(app: SeedApp) -> None:
    out = await app.value("app:terminate")
    assert out == {
        "terminated": True,
        "kind": "pid.exit",
        "from": True,
        "error": {"kind": "Canceled", "message": "workflow terminated"},
    }


async def test_cancel(app: SeedApp) -> None:
    out = await app.value("app:cancel")
    assert out == {
        "cancelled": True,
        "kind": "pid.exit",
        "from": True,
        "error": {"kind": "Canceled", "message": "operation canceled"},
        "pid": out["pid"],
    }
    requested = await app.first_event(
        out["pid"], EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
    )
    assert requested.workflow_execution_cancel_requested_event_attributes.cause == "5s"
    assert (await app.handle(out["pid"]).describe()).status == WorkflowExecutionStatus.CANCELED


# -- "Параллельная работа", "Таймеры", "Детерминизм" ----------------------------------------------


async def test_parallel_work(app: SeedApp) -> None:
    result = await app.workflow("app:parallel_workflow", {"workers": 3, "jobs": 6})
    assert result["total"] == 42
    assert sorted(r["job"] for r in result["processed"]) == [1, 2, 3, 4, 5, 6]
    assert {r["worker"] for r in result["processed"]} == {1, 2, 3}


async def test_durable_timers_start_with_a_day(app: SeedApp) -> None:
    workflow_id = await app.start("app:timers_workflow")
    timer = await app.first_event(workflow_id, EventType.EVENT_TYPE_TIMER_STARTED)
    duration = timer.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
    assert duration == timedelta(hours=24)
    await app.terminate(workflow_id)


async def test_elapsed_time(app: SeedApp) -> None:
    assert 1000 <= await app.workflow("app:elapsed_workflow") < 10_000


async def test_replay_safe_operations_until_the_hour(app: SeedApp) -> None:
    workflow_id = await app.start("app:safe_workflow", "d-1", {"n": 1})
    timer = await app.first_event(workflow_id, EventType.EVENT_TYPE_TIMER_STARTED)
    duration = timer.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
    assert duration == timedelta(hours=1)
    fetched = await app.first_event(workflow_id, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
    data = fetched.activity_task_completed_event_attributes.result.payloads[0]
    assert protocol.from_payload(data) == {"id": "d-1", "data": "data of d-1"}
    await app.terminate(workflow_id)


async def test_replay_safe_operations_after_the_hour(app: SeedApp, tmp_path: Path) -> None:
    """What follows the hour (time, uuid, `crypto.random_bytes`, a child, a version): the
    same file without its `time.sleep("1h")` line, as an extra entry of the running app."""
    source = (APP / "determinism" / "safe.lua").read_text()
    assert source.count('time.sleep("1h")') == 1
    (tmp_path / "safe.lua").write_text(source.replace('time.sleep("1h")', ""))
    registry = app.runtime.app.registry
    original = registry.get("app:safe_workflow")
    assert original is not None
    entry = Entry.create(
        "app",
        "safe_without_the_hour",
        original.kind,
        meta=original.meta,
        data={**original.data, "source": "file://safe.lua"},
        file=tmp_path / "_index.yaml",
    )
    registry.add(entry)
    try:
        result = await app.workflow(entry.id, "d-2", {"n": 2})
    finally:
        registry.remove(entry.id)
    assert result["data"] == {"id": "d-2", "data": "data of d-2"}
    assert uuids.validate(result["id"]) and uuids.version(result["id"]) == 4
    assert result["bytes"] == 32 and result["result"] == {"received": {"n": 2}}
    assert result["v"] == 2 and result["now"] > 0


async def test_non_deterministic_operations_fail_at_io(app: SeedApp) -> None:
    _, event = await app.exit_of("app:unsafe_workflow", host=WORKER)
    assert event.error is not None
    assert event.error.kind == "Internal" and not event.error.retryable
    assert "attempt to index a nil value (global 'io')" in event.error.message


# -- "Обработка ошибок", "Паттерн компенсации (Saga)" --------------------------------------------


async def test_activity_errors(app: SeedApp) -> None:
    assert await app.workflow("app:activity_errors_workflow", {"id": "o-2"}) == {
        "kind": "NotFound",
        "retryable": False,
        "message": "order o-2 not found",
    }
    assert await app.workflow("app:activity_errors_workflow", {"id": "o-1"}) == {
        "result": {"id": "o-1", "risk": "low"}
    }


async def test_activity_failure_modes(app: SeedApp) -> None:
    pid, event = await app.exit_of("app:failure_modes_workflow", {}, host=WORKER)
    assert event.value["kind"] == "Internal" and event.value["retryable"] is False
    assert "unreliable_activity: connection reset" in event.value["message"]
    failed = await app.first_event(pid.id, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)
    started_id = failed.activity_task_failed_event_attributes.started_event_id
    history = await app.handle(pid.id).fetch_history()
    started = next(e for e in history.events if e.event_id == started_id)
    assert started.activity_task_started_event_attributes.attempt == 1


async def test_child_workflow_errors(app: SeedApp) -> None:
    out = await app.workflow("app:child_errors_workflow")
    assert out == {"kind": "NotFound", "retryable": False, "message": "order not found"}


async def test_saga_success_path(app: SeedApp) -> None:
    result = await app.workflow("app:saga_workflow", SAGA_ORDER)
    assert result == {"status": "completed", "tracking": "TRK-s-1"}


async def test_saga_compensation_path_calls_a_nil_global(app: SeedApp) -> None:
    _, event = await app.exit_of("app:saga_workflow", {**SAGA_ORDER, "payment": {}}, host=WORKER)
    assert event.error is not None and event.error.kind == "Internal"
    assert "attempt to call a nil value (global 'run_compensations')" in event.error.message
