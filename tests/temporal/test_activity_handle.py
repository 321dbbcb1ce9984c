"""`LightActivityHandle` (temporal_host/activity_handle.py) against the SDK's own
`_ActivityHandle`, both driven on one asyncio loop through the same stand-in for the
workflow instance: the same command, and every callback, cancel command and `cancelled()`
at the same pass of the loop. A replay of a history recorded with the SDK's handles must
issue the same commands in the same order, so the passes are what this pins; a new SDK
version that adds or removes a step fails here, not in a workflow in flight. And runs
recorded with the SDK's handles on a real server replay with ours."""

from __future__ import annotations

import asyncio
import json
import types
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.bridge.proto.workflow_commands import WorkflowCommand
from temporalio.client import WorkflowHistory
from temporalio.common import RawValue
from temporalio.converter import DataConverter
from temporalio.worker import StartActivityInput
from temporalio.worker._workflow_instance import _WorkflowInstanceImpl

from temporal_host.activity_handle import LightActivityHandle
from temporal_host.protocol import to_payload
from temporal_host.settings import WorkerSettings
from temporal_host.wf_modules.commands import _START_ACTIVITY_DEFAULTS
from tests.temporal.test_workflow_driver import CLIENT_ID, WORKER_ID, load_runtime, replay_results

pytestmark = pytest.mark.anyio


class Instance:
    """What both handles touch of a workflow instance, on the running asyncio loop. Each
    command records the pass of the loop it was added in (`Clock`)."""

    def __init__(self, clock: Clock) -> None:
        loop = asyncio.get_running_loop()
        self.clock = clock
        self.commands: list[tuple[int, WorkflowCommand]] = []
        self._curr_seqs: dict[str, int] = {}
        self._pending_activities: dict[int, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._deleting = False
        self._info = types.SimpleNamespace(
            namespace="default", workflow_id="wf", workflow_type="T", task_queue="q", run_id="r"
        )
        self._context_free_payload_converter = DataConverter.default.payload_converter
        self.create_future = loop.create_future
        self.call_soon = loop.call_soon
        for name in (
            "_next_seq",
            "_register_task",
            "_await_temporal_operation",
            "_outbound_schedule_activity",
        ):
            setattr(self, name, types.MethodType(getattr(_WorkflowInstanceImpl, name), self))

    def _assert_not_read_only(self, what: str) -> None:
        pass

    def _payload_converter_with_context(self, context: Any) -> Any:
        return self._context_free_payload_converter

    def _add_command(self) -> WorkflowCommand:
        command = WorkflowCommand()
        self.commands.append((self.clock.passes, command))
        return command


class Clock:
    """Counts the passes of the loop: one callback that reschedules itself, started right
    after the event under test, so a callback that comes `n` passes later sees `n`."""

    def __init__(self) -> None:
        self.passes = 0
        self.running = False

    def start(self) -> None:
        self.passes, self.running = 0, True
        asyncio.get_running_loop().call_soon(self._tick)

    def _tick(self) -> None:
        if self.running:
            self.passes += 1
            asyncio.get_running_loop().call_soon(self._tick)


def an_input() -> StartActivityInput:
    return StartActivityInput(
        activity="app:act",
        args=(RawValue(to_payload(1)),),
        headers={"wippy-context": to_payload({})},
        disable_eager_execution=False,
        arg_types=None,
        ret_type=RawValue,
        **{**_START_ACTIVITY_DEFAULTS, "start_to_close_timeout": timedelta(seconds=5)},
    )


Make = Callable[[Instance, StartActivityInput], Any]


def sdk_handle(instance: Instance, input: StartActivityInput) -> Any:
    return instance._outbound_schedule_activity(input)  # type: ignore[attr-defined]


def light_handle(instance: Instance, input: StartActivityInput) -> Any:
    return LightActivityHandle(instance, input)  # type: ignore[arg-type]


async def trace(make: Make, script: Callable[[Any, Clock], None]) -> dict[str, Any]:
    """Schedule an activity with `make`, let it start (unless the script cancels at once),
    run `script`, and note when the done callback ran and what it saw."""
    clock = Clock()
    instance = Instance(clock)
    seen: dict[str, Any] = {}

    def done(handle: Any) -> None:
        seen["callback at"] = clock.passes
        seen["cancelled"] = handle.cancelled()
        if not handle.cancelled():
            try:
                seen["result"] = handle.result()
            except Exception as exc:
                seen["result"] = repr(exc)

    handle = make(instance, an_input())
    handle.add_done_callback(done)
    script(handle, clock)
    for _ in range(20):
        await asyncio.sleep(0)
    clock.running = False
    seen["commands"] = [
        (at, command.WhichOneof("variant"), command.SerializeToString())
        for at, command in instance.commands
    ]
    seen["pending"] = sorted(instance._pending_activities)
    return seen


def resolve_later(outcome: str) -> Callable[[Any, Clock], None]:
    def script(handle: Any, clock: Clock) -> None:
        async def later() -> None:
            await asyncio.sleep(0)
            await asyncio.sleep(0)  # the handle has started
            instance = handle._instance
            del instance._pending_activities[handle._seq]  # as the SDK's resolve does
            clock.start()
            if outcome == "success":
                handle._resolve_success(RawValue(to_payload(42)))
            else:
                handle._resolve_failure(RuntimeError("failed"))

        asyncio.get_running_loop().create_task(later())

    return script


def cancel_at_once(handle: Any, clock: Clock) -> None:
    clock.start()
    handle.cancel()


def cancel_after_start_then_resolve(handle: Any, clock: Clock) -> None:
    async def later() -> None:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        clock.start()
        handle.cancel()
        for _ in range(5):
            await asyncio.sleep(0)
        del handle._instance._pending_activities[handle._seq]
        handle._resolve_failure(RuntimeError("cancelled"))

    asyncio.get_running_loop().create_task(later())


SCRIPTS = {
    "success": resolve_later("success"),
    "failure": resolve_later("failure"),
    "cancel at once": cancel_at_once,
    "cancel after start": cancel_after_start_then_resolve,
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
async def test_the_light_handle_keeps_the_sdk_handles_passes(name: str) -> None:
    sdk = await trace(sdk_handle, SCRIPTS[name])
    light = await trace(light_handle, SCRIPTS[name])
    assert "callback at" in sdk  # the script reached the callback
    assert sdk["commands"][0][1] == "schedule_activity"
    assert light == sdk


# -- histories recorded with the SDK's handles -----------------------------------------------

SDK_HANDLE_HISTORIES = Path(__file__).parent / "histories" / "sdk_activity_handles"


@pytest.mark.parametrize(
    "path", sorted(SDK_HANDLE_HISTORIES.glob("*.json")), ids=lambda path: path.stem
)
async def test_a_history_recorded_with_the_sdks_handles_replays(path: Path) -> None:
    """Runs of the driver's test app recorded on a real server before the change (75e361b:
    two activities racing and a started one cancelled, an activity, a timer and a self-send
    in one step, a failed activity beside a timer, calls in order) replay with our handle
    and compute the recorded result."""
    recorded = json.loads(path.read_text())
    prefix = recorded["task_queue_prefix"]
    settings = WorkerSettings.create(
        load_runtime(), None, CLIENT_ID, WORKER_ID, prefix + "driver-tests", {}, prefix
    )
    history = WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])
    replayed = await replay_results(settings, [history])
    assert replayed == {recorded["workflow_id"]: recorded["result"]}
