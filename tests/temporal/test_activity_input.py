"""`commands.start_activity` hands the outbound interceptor chain the same `StartActivityInput`
the SDK's `workflow.start_activity` builds (it skips the SDK's layers to get there, using
private names of the SDK's workflow instance: this test pins them)."""

from __future__ import annotations

import types
from datetime import timedelta
from typing import Any

import pytest
from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.worker import StartActivityInput
from temporalio.worker._workflow_instance import _WorkflowInstanceImpl

from temporal_host.options import ActivityOptions
from temporal_host.protocol import CONTEXT_HEADER, to_payload
from temporal_host.wf_modules.commands import _START_ACTIVITY_DEFAULTS, start_activity


class Instance:
    """What the SDK's `workflow_start_activity` and our `start_activity` touch of a workflow
    instance: the read-only check, the eager-execution flag and the outbound chain's top."""

    def __init__(self, *, eager_disabled: bool) -> None:
        self._disable_eager_activity_execution = eager_disabled
        self._outbound = self
        self.inputs: list[StartActivityInput] = []
        self.checked: list[str] = []
        self.workflow_start_activity = types.MethodType(
            _WorkflowInstanceImpl.workflow_start_activity, self
        )

    def _assert_not_read_only(self, what: str) -> None:
        self.checked.append(what)

    def start_activity(self, input: StartActivityInput) -> str:
        self.inputs.append(input)
        return f"handle {len(self.inputs)}"


OPTIONS = [
    {},
    {"activity.task_queue": "q", "activity.summary": "s", "activity.priority": {"priority_key": 2}},
    {
        "activity.id": "a-1",
        "activity.wait_for_cancellation": True,
        "activity.heartbeat_timeout": 0,
        "activity.schedule_to_close_timeout": 60000,
        "activity.schedule_to_start_timeout": 1000,
        "activity.retry_policy": {"maximum_attempts": 2},
    },
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("eager_disabled", [False, True])
def test_the_input_is_the_sdks(
    monkeypatch: pytest.MonkeyPatch, options: dict[str, Any], eager_disabled: bool
) -> None:
    arguments = ActivityOptions.parse(options).activity_arguments(
        RetryPolicy(maximum_attempts=5), lambda name: "p-" + name, timedelta(seconds=10)
    )
    instance = Instance(eager_disabled=eager_disabled)
    monkeypatch.setattr(workflow._Runtime, "current", staticmethod(lambda: instance))
    args = [RawValue(to_payload(1)), RawValue(to_payload("two"))]
    headers = {CONTEXT_HEADER: to_payload({"k": "v"})}

    sdk = workflow.start_activity("app:act", args=args, result_type=RawValue, **arguments)
    ours = start_activity(
        instance, "app:act", {**_START_ACTIVITY_DEFAULTS, **arguments}, args, dict(headers)
    )

    assert (sdk, ours) == ("handle 1", "handle 2")
    assert instance.checked == ["start activity", "start activity"]
    expected, got = instance.inputs
    expected.headers = headers  # what our interceptor adds to the SDK's input
    assert got == expected


def test_defaults_leave_nothing_of_a_plain_call_unset() -> None:
    """Every keyword argument of `workflow.start_activity` is a field of the input: a new
    SDK version adding one fails here (and in the test above) rather than in a workflow."""
    fields = set(StartActivityInput.__dataclass_fields__)
    assert set(_START_ACTIVITY_DEFAULTS) <= fields
    assert fields - set(_START_ACTIVITY_DEFAULTS) == {
        "activity",
        "args",
        "headers",
        "disable_eager_execution",
        "arg_types",
        "ret_type",
    }
