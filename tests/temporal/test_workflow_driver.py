"""The workflow driver and activities against a real (embedded) Temporal server.

One worker serves the module (`tests/apps/temporal_driver`, built with `build_worker`); its
task queue carries a unique prefix so other modules sharing the server never see it. Every
workflow that completes is replayed from its history with the driver's `Replayer`, and the
result the Lua code computes during the replay must equal the recorded one; the last test
replays a set of histories again in a fresh OS process, where Lua's string-hash seed and
table addresses differ.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
import temporalio.client
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    OutboundInterceptor,
    SignalWorkflowInput,
    StartWorkflowInput,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, CancelledError

from actors.errors import ActorError
from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from corelib import uuids
from lua_bindings import plugin as lua_plugin
from lua_bindings.state import LuaState
from temporal_host import protocol
from temporal_host.driver import WorkflowLuaHost, WorkflowRun, WorkflowScheduler, resolve_entry
from temporal_host.embedded import EmbeddedServer
from temporal_host.options import WorkerOptions
from temporal_host.settings import WorkerSettings
from temporal_host.states import StatePool
from temporal_host.worker import build_replayer, build_worker

pytestmark = pytest.mark.anyio

APP = Path(__file__).parents[1] / "apps" / "temporal_driver"
CLIENT_ID = "app:temporal_client"
WORKER_ID = "app:worker"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"  # one loop for the module: the worker outlives single tests


def load_runtime() -> AppRuntime:
    # Only the Lua plugin: the tests build the worker themselves.
    return AppRuntime.load(APP, plugins=[lua_plugin.KINDS])


@attrs.define
class Driver:
    client: Client
    runtime: AppRuntime
    settings: WorkerSettings
    prefix: str
    worker_settings: WorkerSettings
    """The worker's own settings (its pool of Lua hosts: `states`)."""
    histories: list[tuple[str, str, Any]] = attrs.field(factory=list)
    """(workflow ID, history JSON, result) of every replay-checked run."""

    @property
    def task_queue(self) -> str:
        return self.settings.task_queue

    async def start(self, workflow_type: str, *args: Any, **kwargs: Any) -> WorkflowHandle:
        kwargs.setdefault("id", f"{self.prefix}{uuid.uuid4().hex[:12]}")
        return await self.client.start_workflow(
            workflow_type, args=list(args), task_queue=self.task_queue, **kwargs
        )

    async def result(self, handle: WorkflowHandle, timeout: float = 30) -> Any:
        with anyio.fail_after(timeout):
            return await handle.result()

    async def run(self, workflow_type: str, *args: Any, timeout: float = 30) -> Any:
        """Start, await the result, and check that a replay computes the same result."""
        handle = await self.start(workflow_type, *args)
        result = await self.result(handle, timeout)
        await self.check_replay(handle, result)
        return result

    async def check_replay(
        self, handle: WorkflowHandle, result: Any, mask: Callable[[Any], Any] | None = None
    ) -> None:
        """Replay `handle`'s history: the Lua code must compute `result` again (`mask`
        removes what legitimately differs in a `Replayer`, such as the task queue)."""
        history = await handle.fetch_history()
        replayed = await replay_results(self.settings, [history])
        if mask is not None:
            assert {k: mask(v) for k, v in replayed.items()} == {handle.id: mask(normal(result))}
            return
        assert replayed == {handle.id: normal(result)}
        self.histories.append((handle.id, history.to_json(), normal(result)))

    def pid(self, workflow_id: str) -> str:
        return f"{{{CLIENT_ID}@{WORKER_ID}|{workflow_id}}}"


def normal(value: Any) -> Any:
    """A value as it comes back through a payload (what the client sees)."""
    return protocol.from_payload(protocol.to_payload(value))


async def replay_results(settings: WorkerSettings, histories: list[Any]) -> dict[str, Any]:
    """Replay `histories`; the result the Lua code computed in each replay, by workflow ID."""
    seen: dict[str, Any] = {}
    original = WorkflowRun.finished

    def record(self: WorkflowRun, value: Any, error: Any) -> None:
        seen[workflow.info().workflow_id] = normal(value) if error is None else str(error)
        original(self, value, error)

    WorkflowRun.finished = record  # type: ignore[method-assign]
    try:
        replayer = build_replayer(settings)
        for history in histories:
            await replayer.replay_workflow(history)
    finally:
        WorkflowRun.finished = original  # type: ignore[method-assign]
    return seen


@pytest.fixture(scope="module")
async def driver(temporal_server: EmbeddedServer) -> AsyncIterator[Driver]:
    client = await Client.connect(temporal_server.address, data_converter=protocol.DATA_CONVERTER)
    runtime = load_runtime()
    prefix = f"d{uuid.uuid4().hex[:8]}-"
    async with runtime.node:
        await runtime.start()
        worker = build_worker(
            client,
            runtime=runtime,
            client_id=CLIENT_ID,
            worker_id=WORKER_ID,
            task_queue=prefix + "driver-tests",
            worker_options={"default_activity_retry_policy": {"maximum_attempts": 3}},
            tq_prefix=prefix,
        )
        settings = WorkerSettings.create(
            runtime, client, CLIENT_ID, WORKER_ID, prefix + "driver-tests", {}, prefix
        )
        async with worker:
            worker_settings = worker.config()["interceptors"][0].settings
            yield Driver(client, runtime, settings, prefix, worker_settings)


# -- the seed's workflows -----------------------------------------------------------------------


async def test_order_workflow(driver: Driver) -> None:
    order = {"id": "o-1", "total": 10, "customer_id": "c-1", "shipping_address": "Main st"}
    broken = {"id": "o-2", "total": 5, "customer_id": "c-2"}
    good = await driver.start("app:order_workflow", order)
    bad = await driver.start("app:order_workflow", broken)
    assert await driver.result(good) == {
        "status": "completed",
        "payment_id": "pay-c-1",
        "tracking": "TRK-o-1",
    }
    failed = await driver.result(bad)
    assert failed["status"] == "failed" and "no address" in failed["error"]
    await driver.check_replay(good, await good.result())
    await driver.check_replay(bad, failed)


async def test_signals_through_the_inbox(driver: Driver) -> None:
    handle = await driver.start(
        "app:inbox_workflow", {"id": 7}, start_signal="hello", start_signal_args=[{"n": 1}]
    )
    await handle.signal("@pid.cancel", {"forged": True})  # dropped (defect 14)
    await handle.signal("approve", {})
    result = await driver.result(handle)
    assert result == {"status": "approved", "order": {"id": 7}, "seen": ["hello", "approve"]}
    await driver.check_replay(handle, result)

    cancelled = await driver.start("app:inbox_workflow", {"id": 8})
    await cancelled.signal("cancel", {"reason": "changed mind"})
    result = await driver.result(cancelled)
    assert result == {"status": "cancelled", "reason": "changed mind", "seen": ["cancel"]}


async def test_listen_in_select_with_timeout(driver: Driver) -> None:
    answered = await driver.start("app:listen_workflow", {"timeout": "20s"})
    silent = await driver.start("app:listen_workflow", {"timeout": "1s"})
    await answered.signal("request", {"q": 1})
    result = await driver.result(answered)
    assert result == {"got": {"q": 1}, "topic": "request"}  # no sender header: from() is nil
    assert await driver.result(silent) == {"timeout": True, "at_type": "userdata"}
    await driver.check_replay(answered, result)
    await driver.check_replay(silent, {"timeout": True, "at_type": "userdata"})


async def test_counter_with_coroutine_handlers(driver: Driver) -> None:
    handle = await driver.start("app:counter_workflow", {"initial": 0})
    assert await handle.execute_update("increment", {"amount": 2}) == {"value": 2}
    with pytest.raises(WorkflowUpdateFailedError) as nak:
        await handle.execute_update("increment", {"amount": "x"})
    assert "amount must be a number" in str(nak.value.cause)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update("decrement", {"amount": 5})
    assert await handle.execute_update("decrement", {"amount": 1}) == {"value": 1}
    assert await handle.query("pid") == driver.pid(handle.id)
    info = await handle.query("info")
    assert info["workflow_id"] == handle.id and info["workflow_type"] == "app:counter_workflow"
    with pytest.raises(Exception, match="unknown query: state"):
        await handle.query("state")
    assert await handle.execute_update("finish", {}) == {"message": "finishing"}
    result = await driver.result(handle)
    assert result == {"final_counter": 1}
    await driver.check_replay(handle, result)


async def test_parallel_work_with_channels_and_sleeps(driver: Driver) -> None:
    result = await driver.run("app:parallel_workflow", {"workers": 3, "jobs": 6})
    assert result["total"] == 42
    assert sorted(r["job"] for r in result["processed"]) == [1, 2, 3, 4, 5, 6]


async def test_child_workflows(driver: Driver) -> None:
    result = await driver.run("app:parent_workflow")
    assert result["exec"] == {"hello": "sync"}
    assert result["exec_error"] == {
        "kind": "NotFound",
        "retryable": False,
        "message": "no such thing",
        "what": "thing",
    }
    assert result["pid_shape"] is True
    assert result["event"] == {
        "kind": "pid.exit",
        "from_child": True,
        "value": {"hello": "hello from parent"},
        "at_type": "userdata",
    }
    assert result["failed"] == {"kind": "NotFound", "retryable": False, "message": "no such thing"}
    assert result["ctx_child"] == {"hello": "ctx", "user": "user-7"}
    assert result["greeted"] == {"value": {"n": 1}, "from_parent": True, "from_child": True}
    assert result["not_a_workflow"] == "Invalid" and result["bad_exec"] == "Invalid"


async def test_terminate_a_child_from_a_workflow(driver: Driver) -> None:
    result = await driver.run("app:terminator_workflow")
    assert result == {"ok": True, "kind": "Canceled", "message": "workflow terminated"}


# -- messages ---------------------------------------------------------------------------------


async def test_workflow_to_workflow_signal_and_reply(driver: Driver) -> None:
    ponger = await driver.start("app:ponger_workflow")
    pinger = await driver.start("app:pinger_workflow", {"target": driver.pid(ponger.id)})
    ping_result = await driver.result(pinger)
    pong_result = await driver.result(ponger)
    assert ping_result == {
        "ok": True,
        "received": {"echo": {"data": "hello"}, "me": driver.pid(ponger.id)},
    }
    assert pong_result == {"pinged_by": driver.pid(pinger.id), "replied": True}
    await driver.check_replay(pinger, ping_result)
    await driver.check_replay(ponger, pong_result)


async def test_send_to_a_missing_workflow(driver: Driver) -> None:
    result = await driver.run("app:send_missing_workflow", {"target": driver.pid("no-such-wf")})
    assert result == {
        "kind": "NotFound",
        "retryable": False,
        "message": "workflow not found: no-such-wf",
    }


async def test_workflow_to_local_process(driver: Driver) -> None:
    node = driver.runtime.node
    collector = await node.spawn("app:processes", SpawnRequest(target="app:collector"))
    with anyio.fail_after(5):
        while "driver-collector" not in node.names.names_of(collector):
            await anyio.sleep(0.01)
    handle = await driver.start("app:to_local_workflow", {"pid": str(collector)})
    with anyio.fail_after(30):
        exit_event = await node.host("app:processes").wait_exit(collector)
    assert exit_event.error is None, exit_event.error
    me = driver.pid(handle.id)
    assert exit_event.value == [
        {"topic": "note", "from": me, "value": {"step": 1}},
        {"topic": "note", "from": me, "value": {"step": 2}},
    ]
    await handle.signal("reply", "thanks")
    result = await driver.result(handle)
    assert result["by_name"] is True and result["by_pid"] is True
    assert result["missing_kind"] == "NotFound" and "no-such-name" in result["missing"]
    assert result["dead_kind"] == "NotFound" and "not found" in result["dead"]
    assert result["reply"] == "thanks"
    await driver.check_replay(handle, result)


async def test_self_send_is_delivered(driver: Driver) -> None:
    result = await driver.run("app:self_send_workflow")
    assert result == {"ok": True, "value": [{"n": 1}, "two"], "from_self": True}


# -- determinism ------------------------------------------------------------------------------


async def test_random_values_are_valid_and_replay_identically(driver: Driver) -> None:
    result = await driver.run("app:random_workflow")
    for key, version in (("v4", 4), ("v7", 7), ("v1", 1), ("rid", 4)):
        assert uuids.validate(result[key]) and uuids.version(result[key]) == version
    assert result["len"] == 16 and len(result["bytes"]) == 32
    assert len(result["str"]) == 12 and result["str"].isalnum()
    assert result["opened"] == "secret"
    assert result["bad_len"] is True
    again = await driver.run("app:random_workflow")
    assert again["v4"] != result["v4"] and again["bytes"] != result["bytes"]


async def test_deterministic_pairs_and_next(driver: Driver) -> None:
    result = await driver.run("app:pairs_workflow")
    expected = ["-2", "1", "3", "10", "-0.5", "2.5", "Beta", "alpha", "b", "zeta", "false", "true"]
    assert result == {
        "order": expected,
        "via_next": expected,
        "meta": ["only"],
        "kept": 2,
        "empty": True,
    }


ISOLATION = "app:isolation_workflow"
CLEAN = {
    "runs": 1,
    "upper": "A",
    "table_insert": "ok",
    "floor": 2,
    "pi": math.pi,
    "os_time": "number",
    "time_now": "function",
    "funcs_call": "function",
}
"""What a run of isolation.lua sees when no earlier run left anything behind (every other
field of `seen` is nil, so absent)."""


def clean_except_random(outcome: dict[str, Any]) -> dict[str, Any]:
    seen = dict(outcome["seen"])
    assert isinstance(seen.pop("first_random"), int)
    return seen


async def test_a_pooled_state_keeps_nothing_of_the_previous_run(driver: Driver) -> None:
    """Isolation is a security property: the second run takes the state the first one
    left (the pool says so), and sees none of the first run's globals, library, module or
    metatable writes, module-level locals, nor its reseeded `math.random`."""
    states = driver.worker_settings.states
    first = await driver.run(ISOLATION, "first")
    assert clean_except_random(first) == CLEAN
    assert first["wrote_shared_mt"] is False
    assert states.idle(ISOLATION) == 1  # the first run gave its host back
    host = states.take(ISOLATION)
    assert host is not None
    assert host.scheduler.quiet is True, "the last wake_run said the state was quiet"
    states.give(ISOLATION, host)
    reused = states.reused
    second = await driver.run(ISOLATION, "second")
    assert states.reused == reused + 1 and states.idle(ISOLATION) == 1
    assert clean_except_random(second) == CLEAN
    assert second["seen"]["first_random"] != first["after_reseed"]


async def test_a_workflow_state_keeps_none_of_the_garbage_of_its_making(driver: Driver) -> None:
    """A pool holds up to 64 idle states per entry, so a state must not come out of its
    making with free blocks parked in its allocator's cache (lua_bindings/allocator.py):
    its core and environment load from the worker's bytecode, which frees nothing, and
    anything else is given back (`LuaState.settle`)."""
    host = WorkflowLuaHost(driver.worker_settings)
    assert host.state.allocator_cached is True
    assert host.state.settle() == 0


async def test_replays_on_a_reused_state_are_exact(driver: Driver) -> None:
    """Replaying through one replayer reuses its states: each history still computes its
    recorded result, in any order, fresh state or not."""
    handles = [await driver.start(ISOLATION, tag) for tag in ("a", "b")]
    results = {h.id: normal(await driver.result(h)) for h in handles}
    histories = [await h.fetch_history() for h in handles]
    settings = attrs.evolve(driver.settings, states=StatePool())
    replayed = await replay_results(settings, [*histories, *reversed(histories)])
    assert replayed == results
    assert settings.states.made == 1 and settings.states.reused == 3


async def test_workflow_info_version_and_attrs(driver: Driver) -> None:
    handle = await driver.start("app:info_workflow")
    result = await driver.result(handle)
    info = result["info"]
    assert info["workflow_id"] == handle.id
    assert info["workflow_type"] == "app:info_workflow"
    assert info["task_queue"] == driver.task_queue
    assert info["namespace"] == "default" and info["attempt"] == 1
    assert info["run_id"] == handle.result_run_id
    assert result["after"] > result["before"] > 0 and result["size"] > 0
    assert 1000 <= result["elapsed_ms"] < 10_000 and result["clock"] >= 1.0
    assert result["os_time"] is True
    assert result["date"] == "1970" and result["table_time"] == 946684800
    assert (result["version"], result["again"]) == (2, 2)
    assert result["bad_kind"] == "Invalid"
    assert result["attrs"] is True and result["attrs_bad"] == "Invalid"
    # A Replayer runs in its own namespace and task queue.
    await driver.check_replay(handle, result, lambda r: {**r, "info": r["info"]["run_id"]})
    memo = await (await handle.describe()).memo()
    assert memo == {"notes": "priority", "source": "web"}


async def test_monitor_link_and_unlisted_modules_are_rejected(driver: Driver) -> None:
    result = await driver.run("app:rejected_workflow")
    for name in ("link", "unlink"):
        assert result[name]["kind"] == "Invalid" and result[name]["retryable"] is False
        assert "not supported in workflow context" in result[name]["message"]
    assert result["monitor"]["message"] == (
        "process.monitor not supported in workflow context: "
        "child workflows are automatically monitored"
    )
    # A listed module a workflow may not use is refused like an unlisted one (Invalid), with
    # a message that says where such work belongs (issue 10).
    assert result["events"]["ok"] is False
    assert result["events"]["message"].startswith('module "events" cannot be used in a workflow')
    assert "activity" in result["events"]["message"]
    assert result["workflow_listed"] is True


async def test_durable_timers(driver: Driver) -> None:
    result = await driver.run("app:timers_workflow")
    assert result == {
        "stopped": True,
        "stopped_again": False,
        "ticks": 2,
        "ticker_stop": True,
        "after_zero": "Invalid",
        "reset": True,
        "fired_type": "userdata",
    }


async def test_logging_is_silent_during_replay(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    tag = uuid.uuid4().hex

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if tag in r.getMessage()]

    with caplog.at_level(logging.INFO, logger="app"):
        handle = await driver.start("app:log_workflow", tag)
        assert await driver.result(handle) == tag
        assert lines() == [f"workflow log tag={tag}", f"workflow print\t{tag}"]
        await driver.check_replay(handle, tag)
        assert len(lines()) == 2


# -- activities -------------------------------------------------------------------------------


async def test_activity_errors(driver: Driver) -> None:
    result = await driver.run("app:activity_errors_workflow")
    assert result["returned"] == {
        "kind": "NotFound",
        "retryable": False,
        "message": "failed on purpose",
        "wrapper": "activity",
    }
    assert result["raised"] == {"kind": "Internal", "retryable": False}
    assert result["missing"] == {"kind": "NotFound", "retryable": True}
    assert result["retried"] == {"kind": "Unavailable", "retryable": True}
    assert result["bad_options"] == {
        "kind": "Invalid",
        "message": "invalid temporal activity options for app:echo_activity",
    }
    assert result["bad_target"] == "Invalid"


async def test_activity_chain_context_and_local_activity(driver: Driver) -> None:
    handle = await driver.start("app:activity_chain_workflow", {"x": 1})
    result = await driver.result(handle)
    assert result == {
        "a": {"args": [{"x": 1}]},
        "b": {"args": [{"args": [{"x": 1}]}], "trace": "t-1"},
        "l": {"args": [{"via": "local"}]},
    }
    await driver.check_replay(handle, result)
    history = await handle.fetch_history()
    kinds = [event.event_type for event in history.events]
    assert kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 2
    assert EventType.EVENT_TYPE_MARKER_RECORDED in kinds  # the local activity
    # The run has no context values: its plain call records no `wippy-context` header (a
    # missing one reads as empty); the call with its own context values carries them.
    plain, traced = (
        dict(event.activity_task_scheduled_event_attributes.header.fields)
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    )
    assert protocol.CONTEXT_HEADER not in plain
    assert protocol.read_context(traced) == ({"trace": "t-1"}, None)


@pytest.mark.parametrize("when", ["before Lua runs", "after the run ended"])
async def test_a_failure_while_an_answer_is_applied_fails_the_task(
    driver: Driver, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """An activity result that is all a workflow task brings is applied from the handle's
    done callback (`WorkflowRun.answer`), outside the pump: what goes wrong there still
    fails the workflow task with its own message, as it does in the pump, also when the
    same answer let the run finish."""
    order = {"id": "o-3", "total": 10, "customer_id": "c-3", "shipping_address": "Main st"}
    handle = await driver.start("app:order_workflow", order)
    assert (await driver.result(handle))["status"] == "completed"  # after two activities
    history = await handle.fetch_history()
    message = f"broken {when}"
    if when == "before Lua runs":
        original = WorkflowScheduler.run_ready

        def run_ready(
            self: WorkflowScheduler, wakes: list[Any] | None = None, boot: Any = None
        ) -> None:
            if wakes:
                raise RuntimeError(message)
            original(self, wakes, boot)

        monkeypatch.setattr(WorkflowScheduler, "run_ready", run_ready)
    else:
        check = WorkflowRun.check_history

        def check_history(self: WorkflowRun) -> None:
            if self.done:
                raise RuntimeError(message)
            check(self)

        monkeypatch.setattr(WorkflowRun, "check_history", check_history)
    with pytest.raises(Exception, match=message):
        await build_replayer(driver.settings).replay_workflow(history)


async def test_commands_of_one_step_are_all_issued(driver: Driver) -> None:
    result = await driver.run("app:same_step_workflow")
    assert result == {"inbox": "hi", "activity": "x", "self": True, "timer": True}


async def test_calls_handed_to_python_keep_the_order_of_tasks(driver: Driver) -> None:
    handle = await driver.start("app:call_order_workflow")
    log = await driver.result(handle)
    # Each refusal resumes its task at once, before the next task starts.
    assert log[:6] == [
        "start 1",
        "refused 1 Invalid",
        "start 2",
        "refused 2 Invalid",
        "start 3",
        "refused 3 Invalid",
    ]
    assert sorted(log[6:]) == ["echo 1", "echo 2", "echo 3"]
    history = await handle.fetch_history()
    scheduled = [
        protocol.from_payload(event.activity_task_scheduled_event_attributes.input.payloads[0])
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled == [1, 2, 3]
    await driver.check_replay(handle, log)


class _HeaderInterceptor(temporalio.client.Interceptor):
    """Writes `wippy-context` as a spawner would (the client side's job, here by hand)."""

    def __init__(self, values: dict[str, Any], sender: str) -> None:
        self.values, self.sender = values, sender

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        interceptor = self

        class Outbound(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput) -> Any:
                header = protocol.context_header(interceptor.values)
                if header is not None:
                    input.headers = {**input.headers, protocol.CONTEXT_HEADER: header}
                return await super().start_workflow(input)

            async def signal_workflow(self, input: SignalWorkflowInput) -> None:
                header = protocol.context_header({}, interceptor.sender)
                if header is not None:
                    input.headers = {**input.headers, protocol.CONTEXT_HEADER: header}
                await super().signal_workflow(input)

        return Outbound(next)


async def test_context_and_sender_from_headers(driver: Driver) -> None:
    sender = "{app:processes|0x00042}"
    client = Client(
        driver.client.service_client,
        namespace=driver.client.namespace,
        data_converter=protocol.DATA_CONVERTER,
        interceptors=[_HeaderInterceptor({"user_id": "u-1", "tenant": "t-1"}, sender)],
    )
    handle = await client.start_workflow(
        "app:context_workflow", id=f"{driver.prefix}ctx", task_queue=driver.task_queue
    )
    await handle.signal("who", None)
    result = await driver.result(handle)
    assert result == {
        "all": {"user_id": "u-1", "tenant": "t-1"},
        "user": "u-1",
        "activity_user": "u-1",
        "sender": sender,
    }
    await driver.check_replay(handle, result)


async def test_async_futures(driver: Driver) -> None:
    result = await driver.run("app:futures_workflow")
    # Which of two concurrent activities finishes first is up to the worker.
    assert result.pop("first") in (1, 2)
    assert result == {
        "pending": False,
        "results": [1, 2],
        "same": True,
        "timed_out": True,
        "cancel": True,
        "canceled": {"is": True, "kind": "Canceled"},
        "channel_item": "function call canceled",
    }


# -- outcomes ---------------------------------------------------------------------------------


async def test_cancel_request_becomes_a_cancel_event(driver: Driver) -> None:
    handle = await driver.start("app:cancellable_workflow")
    await handle.cancel(reason="no longer needed")
    result = await driver.result(handle)
    assert result == {
        "status": "canceled",
        "kind": "pid.cancel",
        "reason": "no longer needed",
        "from": "{|topology}",
    }
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    await driver.check_replay(handle, result)

    giving_up = await driver.start("app:cancellable_workflow", {"fail": True})
    await giving_up.cancel()
    with pytest.raises(WorkflowFailureError) as failure:
        await driver.result(giving_up)
    assert isinstance(failure.value.cause, CancelledError)
    assert (await giving_up.describe()).status == WorkflowExecutionStatus.CANCELED


async def test_workflow_errors_fail_the_workflow(driver: Driver) -> None:
    handle = await driver.start(
        "app:failing_workflow", {"kind": "NotFound", "message": "gone", "retryable": False}
    )
    with pytest.raises(WorkflowFailureError) as failure:
        await driver.result(handle)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.message, cause.non_retryable) == ("NotFound", "gone", True)
    error = protocol.error_from_failure(cause)
    assert (error.kind, error.retryable, error.details) == ("NotFound", False, {"n": 1})

    raised = await driver.start("app:failing_workflow", {"raise": True})
    with pytest.raises(WorkflowFailureError) as failure:
        await driver.result(raised)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "Internal" and cause.non_retryable and "boom" in cause.message


async def test_a_run_starts_and_ends_within_the_calls_into_lua_that_run_it(
    driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's process is made by the call into Lua that first runs it (`boot_run`), not
    by a call of its own; and its exit comes back from the call that ran it: Python
    applies it once the kernel has run and dropped the context, not in a call from Lua
    while the kernel runs. Two crossings, and the GIL handovers they may cost, less per
    run, whether main returned a value, returned an error or raised."""
    handles = [
        await driver.start("app:failing_workflow", arg)
        for arg in ({"kind": "NotFound", "message": "gone"}, {"raise": True})
    ]
    handles.append(await driver.start("EchoWorkflow", 1))
    for handle in handles:
        with contextlib.suppress(WorkflowFailureError):
            await driver.result(handle)
    histories = [await handle.fetch_history() for handle in handles]
    seen: list[tuple[bool, bool]] = []
    original = WorkflowLuaHost._finished

    def finished(self: WorkflowLuaHost, context: int, returned: bool, a: Any, b: Any) -> bool:
        seen.append((returned, bool(self.state.rt.quiet())))
        return original(self, context, returned, a, b)

    monkeypatch.setattr(WorkflowLuaHost, "_finished", finished)
    made_alone: list[str] = []
    new_process = LuaState.new_process

    def counted(self: LuaState, entry: Any, *args: Any, **kwargs: Any) -> tuple[int, int]:
        made_alone.append(entry.id)
        return new_process(self, entry, *args, **kwargs)

    monkeypatch.setattr(LuaState, "new_process", counted)
    settings = attrs.evolve(driver.settings, states=StatePool())  # hosts made from now on
    replayed = await replay_results(settings, histories)
    assert len(replayed) == 3
    assert seen == [(True, True), (False, True), (True, True)]
    assert made_alone == []


async def test_custom_workflow_type_and_arguments(driver: Driver) -> None:
    assert await driver.run("EchoWorkflow", 1, "two", {"x": 3}, None) == [1, "two", {"x": 3}]


async def test_upgrade_continues_as_new(driver: Driver) -> None:
    handle = await driver.start("app:hops_workflow", 2)
    assert await driver.result(handle) == ["done", [2, 1, 0]]
    first = driver.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    first_run = await first.fetch_history()
    assert first_run.events[-1].event_type == (
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    )
    await build_replayer(driver.settings).replay_workflow(first_run)


# -- worker options ---------------------------------------------------------------------------


def test_worker_options_mapping() -> None:
    parsed = WorkerOptions.parse(
        {
            "identity": "w1",
            "max_concurrent_activity_execution_size": 10,
            "max_concurrent_workflow_task_pollers": 4,
            "worker_activities_per_second": 0,
            "sticky_schedule_to_start_timeout": "5s",
            "local_activity_worker_only": True,
            "enable_session_worker": True,
            "default_activity_retry_policy": {"maximum_attempts": 2},
        }
    )
    kwargs = parsed.worker_arguments()
    assert parsed.default_activity_retry_policy.maximum_attempts == 2
    assert kwargs["identity"] == "w1" and kwargs["max_concurrent_activities"] == 10
    assert kwargs["max_concurrent_workflow_task_polls"] == 4
    assert "max_activities_per_second" not in kwargs
    assert kwargs["sticky_queue_schedule_to_start_timeout"].total_seconds() == 5
    assert kwargs["no_remote_activities"] is True and parsed.disable_workflow_worker is False
    for bad, message in (
        (
            {"max_concurrent_workflow_task_pollers": 1},
            "worker_options.max_concurrent_workflow_task_pollers: 1 is not allowed",
        ),
        ({"no_such_option": 1}, "unknown option worker_options.no_such_option"),
        (
            {"local_activity_worker_only": True, "disable_workflow_worker": True},
            "conflicts with disable_workflow_worker",
        ),
        ({"worker_stop_timeout": "soon"}, "worker_options.worker_stop_timeout: invalid duration"),
    ):
        with pytest.raises(ActorError) as caught:
            WorkerOptions.parse(bad)
        assert message in caught.value.error.message


# -- entries ----------------------------------------------------------------------------------


def test_a_resolved_entry_follows_the_registry() -> None:
    """`resolve_entry` checks a type once per entry object: the same entry is the same
    answer, and an entry replaced in the registry is checked again."""
    runtime = load_runtime()
    settings = WorkerSettings.create(runtime, None, CLIENT_ID, WORKER_ID, "resolve")
    registry = runtime.app.registry
    entry = registry.get("app:order_workflow")
    assert entry is not None
    assert resolve_entry(settings, "app:order_workflow") is entry
    assert resolve_entry(settings, "app:order_workflow") is entry

    moved = attrs.evolve(entry, meta={"temporal": {"workflow": {"worker": "elsewhere"}}})
    registry.add(moved, replace=True)
    with pytest.raises(ApplicationError, match="not registered on app:worker"):
        resolve_entry(settings, "app:order_workflow")
    edited = attrs.evolve(entry, data={**entry.data})
    registry.add(edited, replace=True)
    assert resolve_entry(settings, "app:order_workflow") is edited

    named = resolve_entry(settings, "EchoWorkflow")  # a custom type name: found by the scan
    assert named is registry.get("app:echo_workflow")
    assert resolve_entry(settings, "EchoWorkflow") is named


# -- replay in a fresh process ----------------------------------------------------------------

_REPLAY_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from temporalio.client import WorkflowHistory
    from tests.temporal.test_workflow_driver import load_runtime, replay_results
    from actors.cli import exit_process
    from temporal_host.settings import WorkerSettings

    async def main(path):
        cases = json.load(open(path))
        settings = WorkerSettings.create(load_runtime(), None, *sys.argv[2:5])
        histories = [WorkflowHistory.from_json(wid, text) for wid, text, _ in cases]
        print(json.dumps(await replay_results(settings, histories)))

    asyncio.run(main(sys.argv[1]))
    exit_process(0)  # as the `actors` program ends: see its docstring
    """
)


async def test_replay_in_a_fresh_process(driver: Driver, tmp_path: Path) -> None:
    for workflow_type in ("app:random_workflow", "app:pairs_workflow", "app:parallel_workflow"):
        await driver.run(workflow_type, {})
    cases = tmp_path / "histories.json"
    cases.write_text(json.dumps(driver.histories))
    settings = driver.settings
    command = [
        sys.executable,
        "-c",
        _REPLAY_SCRIPT,
        str(cases),
        CLIENT_ID,
        WORKER_ID,
        settings.task_queue,
    ]
    completed = await anyio.run_process(
        command, cwd=Path(__file__).parents[2], check=False, stderr=subprocess.PIPE
    )
    assert completed.returncode == 0, completed.stderr.decode()[-3000:]
    replayed = json.loads(completed.stdout.decode().strip().splitlines()[-1])
    assert replayed == {wid: result for wid, _, result in driver.histories}
