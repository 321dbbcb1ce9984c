"""The handle of an activity a Lua workflow starts: the SDK's command and bookkeeping,
without the SDK's task.

The SDK's `workflow.start_activity` returns an `_ActivityHandle`, an asyncio task running a
coroutine that awaits the activity's result future (through `asyncio.wait`, so a task
cancel does not cancel the operation). The driver never awaits it: it wants one callback
when the activity is resolved (`Commands.when_resolved`). The task, its coroutine, the
`asyncio.wait` and their steps were about 40 µs of a workflow task's 380 in a replay,
as much as the task's whole call into Lua (docs/performance.md, "The activity handle").

`LightActivityHandle` issues the same `ScheduleActivity` command (the SDK's own
`_apply_schedule_command`, on the same input and sequence number) and sits in the instance's
`_pending_activities`, where the SDK resolves it. What it must keep is *when* things
happen, since a replay of a history recorded with the SDK's handles must issue the same
commands in the same order: its callback runs after the same number of passes of the
workflow's event loop as the SDK task's done callback (three after a resolution: the
future's callback, the task's wake-up, the task's done callbacks), a cancel adds the cancel
command at the pass the task would have, and `cancelled()` answers as the task would.
`tests/temporal/test_activity_handle.py` pins those counts against the SDK's own handle.

Private SDK use (temporalio 1.35, pinned in pyproject.toml): `_next_seq`,
`_pending_activities`, `_context_free_payload_converter`, `_deleting`, `_add_command`,
`_assert_not_read_only`, `call_soon`, `_capture_event_group_markers`, and
`_ActivityHandle`'s `_apply_schedule_command` and `_apply_cancel_command`, called on this
object (they read `_instance`, `_input`, `_seq`, `_payload_converter` and
`_event_group_markers`). Only activities (not local activities, which keep the SDK's
handle: their backoff re-schedules through the task).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, cast

from temporalio import workflow
from temporalio.worker import StartActivityInput
from temporalio.worker._workflow_instance import (
    _ActivityHandle,
    _capture_event_group_markers,
    _WorkflowInstanceImpl,
)

DoneCallback = Callable[["LightActivityHandle"], object]


class LightActivityHandle:
    """A scheduled activity: `add_done_callback`, `cancelled`, `result`, `cancel`, the part
    of an asyncio task's interface the driver uses, and what the SDK calls to resolve it."""

    __slots__ = (
        "_callback",
        "_cancel_command_seq",
        "_cancelled",
        "_context",
        "_error",
        "_event_group_markers",
        "_input",
        "_instance",
        "_payload_converter",
        "_resolved",
        "_seq",
        "_started",
        "_value",
    )

    def __init__(self, instance: _WorkflowInstanceImpl, input: StartActivityInput) -> None:
        self._instance = instance
        self._input = input
        self._seq = instance._next_seq("activity")
        # The arguments are `RawValue`s (commands.py), which no converter changes: the
        # context-free one gives the same bytes as the SDK's per-activity one.
        self._payload_converter = instance._context_free_payload_converter
        self._event_group_markers = _capture_event_group_markers(input.event_groups)
        self._callback: DoneCallback | None = None
        self._context: contextvars.Context | None = None
        self._cancel_command_seq: int | None = None
        self._started = False
        self._cancelled = False
        self._resolved = False
        self._value: Any = None
        self._error: BaseException | None = None
        _ActivityHandle._apply_schedule_command(self)  # type: ignore[arg-type]
        instance._pending_activities[self._seq] = self  # type: ignore[assignment]
        instance.call_soon(self._start)  # the SDK task's first step

    # -- what the driver uses ----------------------------------------------------------------

    def add_done_callback(self, callback: DoneCallback) -> None:
        """One callback (the driver's), run in the context of this call, as a task's."""
        self._callback = callback
        self._context = contextvars.copy_context()

    def cancelled(self) -> bool:
        return self._cancelled

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value

    def cancel(self) -> bool:
        """Request the activity's cancellation, as the SDK's handle does: before the handle
        started (in the pass that scheduled it) the cancel command goes out now and the
        handle ends cancelled at what would be its first step; after, the command goes out
        on the next pass and the handle waits for the activity's resolution. While the
        workflow is evicted no command goes out. Once resolved there is nothing to cancel
        (the SDK's task could still be cancelled in the two passes before its callback;
        no Lua code runs in them, so the driver never asks then)."""
        if self._cancelled or self._resolved:
            return False
        instance = self._instance
        if instance._deleting:
            self._cancelled = True
            return True
        instance._assert_not_read_only("cancel activity handle")
        if not self._started:
            self._request_cancel()
            self._cancelled = True
        else:
            instance.call_soon(self._request_cancel)
        return True

    # -- what the SDK calls --------------------------------------------------------------------

    def _resolve_success(self, result: Any) -> None:
        self._value = result
        self._resolved = True
        self._instance.call_soon(self._complete)

    def _resolve_failure(self, error: BaseException) -> None:
        if not self._started:
            return  # as the SDK's handle: nothing waits for a handle that never started
        self._error = error
        self._resolved = True
        self._instance.call_soon(self._complete)

    def _resolve_backoff(self, backoff: Any) -> None:
        raise RuntimeError("an activity (not a local one) was told to back off")

    # -- the passes ---------------------------------------------------------------------------

    def _start(self) -> None:
        """The task's first step: a handle cancelled before it ends here."""
        if self._cancelled:
            self._wake()
        else:
            self._started = True

    def _complete(self) -> None:
        """The result future's callback (`asyncio.wait`'s), then the task's wake-up."""
        self._instance.call_soon(self._wake)

    def _wake(self) -> None:
        """The task's step that ends it, which schedules its done callback."""
        callback = self._callback
        if callback is not None:
            self._instance.call_soon(callback, self, context=self._context)

    def _request_cancel(self) -> None:
        if self._cancel_command_seq == self._seq and not self._instance._deleting:
            return
        self._cancel_command_seq = self._seq
        _ActivityHandle._apply_cancel_command(self, self._instance._add_command())  # type: ignore[arg-type]


def start(input: StartActivityInput) -> LightActivityHandle:
    """Schedule `input` in the running workflow: the bottom of the outbound interceptor
    chain, where the SDK's `_WorkflowOutboundImpl.start_activity` would make its handle."""
    instance = cast(_WorkflowInstanceImpl, workflow._Runtime.current())
    return LightActivityHandle(instance, input)
