"""Helpers for the Temporal host tests: the test app booted against a dev server, and Python
workflows serving the app's workflow types.

The Python workflows stand in for the Lua workflow driver (the worker side) and behave like
the Lua sources in `tests/apps/temporal_client/workflows/`: they test the client side on its
own, including what arrives in the headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import anyio
from temporalio import workflow
from temporalio.common import RawValue
from temporalio.worker import (
    HandleSignalInput,
    Interceptor,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from actors.errors import Error
from actors.host import SpawnRequest
from actors.messages import Event
from actors.runtime import AppRuntime
from temporal_host.embedded import EmbeddedServer
from temporal_host.host import WorkflowHost
from temporal_host.protocol import application_error, read_context

APP = Path(__file__).parents[1] / "apps" / "temporal_client"
PROCESSES = "tc:processes"
WORKER = "tc:worker"
TASK_QUEUE = "tc-queue"


# -- Python workflows with the app's workflow types ---------------------------------------------


class _SignalSender(WorkflowInboundInterceptor):
    """Hands each signal's sender (from `wippy-context`) to the workflow instance."""

    async def handle_signal(self, input: HandleSignalInput) -> None:
        workflow.instance().last_sender = read_context(input.headers)[1]
        await super().handle_signal(input)


class SenderInterceptor(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _SignalSender


@workflow.defn(name="tc:echo", sandboxed=False)
class Echo:
    @workflow.run
    async def run(self, arg: Any = None) -> Any:
        if isinstance(arg, dict) and "fail" in arg:
            raise application_error(Error(arg["fail"]["message"], arg["fail"]["kind"], False))
        return arg


@workflow.defn(name="tc:collector", sandboxed=False)
class Collector:
    """Records messages until "finish"; a cancel request ends it with the reason."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.finished = False
        self.last_sender: str | None = None

    @workflow.run
    async def run(self, input: Any = None) -> Any:
        context, _ = read_context(workflow.info().headers)
        try:
            await workflow.wait_condition(lambda: self.finished)
        except asyncio.CancelledError:
            reason = workflow.cancellation_reason() or ""
            return {"canceled": reason, "messages": self.messages, "input": input}
        return {"messages": self.messages, "input": input, "context": context}

    @workflow.signal(dynamic=True)
    def on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        if name == "finish":
            self.finished = True
            return
        converter = workflow.payload_converter()
        value = converter.from_payload(args[0].payload) if args else None
        self.messages.append({"topic": name, "value": value, "from": self.last_sender})


@workflow.defn(name="TcNamed", sandboxed=False)
class Named:
    @workflow.run
    async def run(self) -> str:
        return "named"


@workflow.defn(name="tc:chain", sandboxed=False)
class Chain:
    """Continues as new `hops` times, then returns the number of runs."""

    @workflow.run
    async def run(self, hops: int, runs: int = 1) -> int:
        if hops > 0:
            workflow.continue_as_new(args=[hops - 1, runs + 1])
        return runs


WORKFLOWS = [Echo, Collector, Named, Chain]


# -- the app ---------------------------------------------------------------------------------


class App:
    """The test app booted on a node, with a unique task-queue prefix."""

    def __init__(self, runtime: AppRuntime, prefix: str) -> None:
        self.runtime = runtime
        self.prefix = prefix
        self.uid = prefix.rstrip("-")

    @property
    def node(self) -> Any:
        return self.runtime.node

    @property
    def host(self) -> WorkflowHost:
        host = self.node.host(WORKER)
        assert isinstance(host, WorkflowHost)
        return host

    async def run(self, scenario: str, *args: Any, timeout: float = 30) -> Event:
        """Run `tc:<scenario>` on the process host with `{uid = ...}` (or `args`)."""
        args = args or ({"uid": self.uid},)
        pid = await self.node.spawn(PROCESSES, SpawnRequest(target=f"tc:{scenario}", args=args))
        with anyio.fail_after(timeout):
            return await self.node.host(PROCESSES).wait_exit(pid)

    async def value(self, scenario: str, *args: Any, timeout: float = 30) -> Any:
        """The scenario's result; its failure fails the test."""
        event = await self.run(scenario, *args, timeout=timeout)
        assert event.error is None, f"{scenario} failed: {event.error} {event.error.stack}"
        return event.value


@contextlib.asynccontextmanager
async def booted_app(
    server: EmbeddedServer, *, python_workflows: bool = True
) -> AsyncIterator[App]:
    """The app against `server`. With `python_workflows` the app's own worker stays off and
    a Python worker serves the workflow types on the same (prefixed) task queue."""
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    overrides = [f"tc:temporal:tq_prefix={prefix}"]
    if python_workflows:
        overrides.append("tc:worker:lifecycle.auto_start=false")
    runtime = AppRuntime.load(
        APP, overrides=overrides, settings={"temporal_address": server.address}
    )
    assert not runtime.errors, runtime.errors
    async with runtime.node:
        await runtime.start()
        app = App(runtime, prefix)
        if not python_workflows:
            yield app
            return
        async with Worker(
            app.host.client,
            task_queue=prefix + TASK_QUEUE,
            workflows=WORKFLOWS,
            interceptors=[SenderInterceptor()],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            yield app
