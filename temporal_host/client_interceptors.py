"""The client outbound interceptor that writes the `wippy-context` header (temporal.md §4.1, §16).

`Client.start_workflow` and `WorkflowHandle.signal` take no headers, so the caller states
what should travel with the call in a context variable (`outgoing(...)`) and the interceptor,
which runs in the same task, turns it into the header. Calls made outside `outgoing` (tests,
tools using the client directly) carry no header, exactly as a plain Temporal client would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import attrs
import temporalio.client
from temporalio.client import (
    OutboundInterceptor,
    SignalWorkflowInput,
    StartWorkflowInput,
    WorkflowHandle,
)

from actors.pid import PID
from temporal_host.protocol import (
    CONTEXT_HEADER,
    SECURITY_HEADER,
    context_header,
    security_header,
)


@attrs.frozen
class Outgoing:
    """What the next start or signal in this task carries: context values and the sender."""

    context: Mapping[str, Any] = attrs.field(factory=dict)
    sender: PID | None = None


_OUTGOING: ContextVar[Outgoing | None] = ContextVar("wippy_outgoing", default=None)


@contextlib.contextmanager
def outgoing(context: Mapping[str, Any] | None = None, sender: PID | None = None) -> Iterator[None]:
    """Starts and signals made inside this block carry `context` and `sender` as headers."""
    token = _OUTGOING.set(Outgoing(context or {}, sender))
    try:
        yield
    finally:
        _OUTGOING.reset(token)


class ContextInterceptor(temporalio.client.Interceptor):
    """Pass to `Client.connect(interceptors=[...])`; `signing_key` signs the identity of a
    start in the `wippy-security` header (none is sent without it)."""

    def __init__(self, signing_key: str | None = None) -> None:
        self.signing_key = signing_key

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _ContextOutbound(next, self.signing_key)


class _ContextOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, signing_key: str | None) -> None:
        super().__init__(next)
        self.signing_key = signing_key

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        state = _OUTGOING.get()
        if state is not None:
            # The sender only means something for the signal of a signal-with-start: the one
            # header of that request serves both the start and the signal (§4.1).
            sender = state.sender if input.start_signal else None
            header = context_header(state.context, sender)
            if header is not None:
                input.headers = {**input.headers, CONTEXT_HEADER: header}
            security = security_header(state.context, self.signing_key)
            if security is not None:
                input.headers = {**input.headers, SECURITY_HEADER: security}
        return await super().start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        state = _OUTGOING.get()
        if state is not None and state.sender is not None:
            # Receivers read only the sender from a signal header (§16), so send nothing else.
            header = context_header({}, state.sender)
            assert header is not None  # it carries the sender
            input.headers = {**input.headers, CONTEXT_HEADER: header}
        await super().signal_workflow(input)
