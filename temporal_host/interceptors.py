"""Worker interceptors: the `wippy-context` header inside workers (temporal.md §4, §16).

The SDK gives workflow code no way to read or write headers directly, so interceptors carry
them across, and context variables carry them between the interceptors and the driver:

- workflow inbound: `execute_workflow` reads the start header (context values and, for a
  signal-with-start, the signal's sender) into `START_HEADER`; `handle_signal` reads the
  signal's sender into `SIGNAL_SENDER` while the (synchronous) signal handler runs;
- workflow outbound: every activity, local activity, child start, signal (external or to a
  child) and continue-as-new gets the header the driver put in `OUTBOUND_HEADER` when it issued the
  command (`outbound(...)`); commands issued outside such a block carry none;
- activity inbound: the activity's header goes into `ACTIVITY_CONTEXT` for the activity.

The worker-level settings reach workflow code through the SDK's extern functions
(`settings_of_workflow()`), which also works for the `Replayer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import temporalio.worker
import temporalio.workflow
from temporalio.worker import (
    ActivityInboundInterceptor,
    ContinueAsNewInput,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    HandleSignalInput,
    SignalChildWorkflowInput,
    SignalExternalWorkflowInput,
    StartActivityInput,
    StartChildWorkflowInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from lua_bindings.modules.security import context_actor, context_scope
from temporal_host import activity_handle
from temporal_host.protocol import (
    CONTEXT_HEADER,
    SECURITY_HEADER,
    Payload,
    context_header,
    read_context,
    read_security,
    security_header,
)

if TYPE_CHECKING:
    from temporal_host.settings import WorkerSettings

_SETTINGS_EXTERN = "wippy_worker_settings"


@attrs.frozen
class Header:
    """What one command carries: context values, plus the sender for signals."""

    values: Mapping[str, Any] = attrs.field(factory=dict)
    sender: str | None = None

    def payload(self) -> Payload | None:
        """Encoded once for consecutive commands with an equal header (a workflow calling
        activities in a loop sends the same context each time). The SDK copies header
        payloads into each command, so sharing one is safe. None for an empty header,
        which is not sent (`context_header`)."""
        global _LAST_PAYLOAD
        last = _LAST_PAYLOAD
        if last is not None and last[1] == self.sender and last[0] == self.values:
            return last[2]
        payload = context_header(self.values, self.sender)
        _LAST_PAYLOAD = (dict(self.values), self.sender, payload)
        return payload


_LAST_PAYLOAD: tuple[dict[str, Any], str | None, Payload | None] | None = None
"""(values, sender, payload) of the last header encoded; replaced whole (threads share it)."""


START_HEADER: ContextVar[tuple[dict[str, Any], str | None]] = ContextVar(
    "wippy_start_header", default=({}, None)
)
"""(context values, sender) of the workflow's start request, seen by the run method."""

SIGNAL_SENDER: ContextVar[str | None] = ContextVar("wippy_signal_sender", default=None)
"""The sender PID string of the signal being handled (None when the header has none)."""

OUTBOUND_HEADER: ContextVar[Header | None] = ContextVar("wippy_outbound_header", default=None)
"""The header of the commands being issued (see `outbound`)."""

ACTIVITY_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar(
    "wippy_activity_context", default=None
)
"""The context values of the activity being executed (from its header)."""


class outbound:
    """Commands issued in this block (and tasks created in it) carry `header`. A class
    rather than a generator context manager: a workflow enters one per activity call."""

    __slots__ = ("header", "token")

    def __init__(self, header: Header) -> None:
        self.header = header

    def __enter__(self) -> None:
        self.token = OUTBOUND_HEADER.set(self.header)

    def __exit__(self, *exc: object) -> None:
        OUTBOUND_HEADER.reset(self.token)


def settings_of_workflow() -> WorkerSettings:
    """The `WorkerSettings` of the worker running the current workflow."""
    return temporalio.workflow.extern_functions()[_SETTINGS_EXTERN]()


class WippyInterceptor(temporalio.worker.Interceptor):
    """The interceptor of every worker (and replayer) that runs Lua workflows; `settings`
    is the `WorkerSettings` the driver and activities need."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityInbound(next, self.settings.header_signing_key)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        settings = self.settings
        input.unsafe_extern_functions[_SETTINGS_EXTERN] = lambda: settings
        return _WorkflowInbound


class _WorkflowInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        values, sender = read_context(input.headers)
        key = settings_of_workflow().header_signing_key
        START_HEADER.set(({**values, **read_security(input.headers, key)}, sender))
        return await super().execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        # The signal of a signal-with-start sees the start request's headers, which carry
        # its sender (spike notes b), so the signal's own headers are always the source.
        _, sender = read_context(input.headers)
        token = SIGNAL_SENDER.set(sender)
        try:
            return await super().handle_signal(input)
        finally:
            SIGNAL_SENDER.reset(token)


def command_headers(header: Header, settings: WorkerSettings | None = None) -> dict[str, Payload]:
    """The headers a command issued with `header` carries: `wippy-context` unless it is
    empty, and `wippy-security` when the context holds an identity to sign with the
    worker's key (from `settings`, or the running workflow's when None)."""
    payload = header.payload()
    out = {} if payload is None else {CONTEXT_HEADER: payload}
    values = header.values
    if context_actor(values) is None and context_scope(values) is None:
        return out  # no identity to sign: no need for the worker's key
    if settings is None:
        settings = settings_of_workflow()
    security = security_header(values, settings.header_signing_key)
    if security is not None:
        out[SECURITY_HEADER] = security
    return out


def _with_header(headers: Mapping[str, Payload]) -> Mapping[str, Payload]:
    """`headers` plus those of the `outbound(...)` block the command was issued in. A
    command that already carries `wippy-context` was given its headers by the driver
    (`Commands.activity` sets them in the SDK's input directly) and keeps them; so does
    one the driver gave none, an empty context (it issues those outside any block)."""
    header = OUTBOUND_HEADER.get()
    if header is None or CONTEXT_HEADER in headers:
        return headers
    return {**headers, **command_headers(header)}


class _WorkflowOutbound(WorkflowOutboundInterceptor):
    """The innermost outbound interceptor (`WippyInterceptor` is the first of the worker's
    list, so it wraps the SDK's own outbound first): every other interceptor has seen a
    call when it gets here."""

    def start_activity(self, input: StartActivityInput) -> Any:
        # The SDK's outbound would make an `_ActivityHandle` task: ours issues the same
        # command without one (temporal_host/activity_handle.py).
        input.headers = _with_header(input.headers)
        return activity_handle.start(input)

    def start_local_activity(
        self, input: StartLocalActivityInput
    ) -> temporalio.workflow.ActivityHandle[Any]:
        input.headers = _with_header(input.headers)
        return super().start_local_activity(input)

    async def start_child_workflow(
        self, input: StartChildWorkflowInput
    ) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
        input.headers = _with_header(input.headers)
        return await super().start_child_workflow(input)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        input.headers = _with_header(input.headers)
        return await super().signal_external_workflow(input)

    async def signal_child_workflow(self, input: SignalChildWorkflowInput) -> None:
        input.headers = _with_header(input.headers)
        return await super().signal_child_workflow(input)

    def continue_as_new(self, input: ContinueAsNewInput) -> NoReturn:
        input.headers = _with_header(input.headers)
        super().continue_as_new(input)


class _ActivityInbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, signing_key: str | None) -> None:
        super().__init__(next)
        self.signing_key = signing_key

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        values, _ = read_context(input.headers)
        values.update(read_security(input.headers, self.signing_key))
        token = ACTIVITY_CONTEXT.set(values)
        try:
            return await super().execute_activity(input)
        finally:
            ACTIVITY_CONTEXT.reset(token)
