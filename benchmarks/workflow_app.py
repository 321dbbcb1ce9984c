"""Shared set-up for the workflow benchmarks: an in-memory embedded Temporal server and
`benchmarks/apps/workflows` booted against it, its Lua worker polling; and the Python twins
of the app's workflows and activity, which the benchmarks run beside the Lua ones."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner

from actors.runtime import AppRuntime
from temporal_host.embedded import EmbeddedServer
from temporal_host.host import WorkflowHost
from temporal_host.options import DEFAULT_ACTIVITY_RETRY, DEFAULT_HEARTBEAT_TIMEOUT

APP = Path(__file__).parent / "apps" / "workflows"
CLIENT_ID = "wfbench:temporal"
WORKER_ID = "wfbench:worker"
TASK_QUEUE = "bench-lua"
NATIVE_QUEUE = "bench-native"
TIMEOUT = timedelta(minutes=10)
"""The driver's default start-to-close timeout for `funcs.call`."""
SAME_OPTIONS: dict[str, Any] = {
    "start_to_close_timeout": TIMEOUT,
    "heartbeat_timeout": DEFAULT_HEARTBEAT_TIMEOUT,
    "retry_policy": DEFAULT_ACTIVITY_RETRY,
}
"""The options the driver gives a plain `funcs.call` (temporal.md §9.4, the automatic
heartbeat's timeout), given to the twins' calls too: the server keeps the same timers and
retry state for both, and the two histories carry the same fields (docs/performance.md,
"The same machine the next night")."""


# -- the Python twins of benchmarks/apps/workflows -------------------------------------------


@activity.defn(name="double")
async def double(n: int) -> int:
    """`wfbench:double`."""
    return n * 2


@workflow.defn(name="OneActivity", sandboxed=False)
class OneActivity:
    """`wfbench:one_activity`. Unsandboxed, as the driver runs, so a comparison prices the
    Lua driver rather than the SDK's sandbox."""

    @workflow.run
    async def run(self, n: int) -> int:
        return await workflow.execute_activity(double, n, **SAME_OPTIONS)


@workflow.defn(name="ActivityLoop", sandboxed=False)
class ActivityLoop:
    """`wfbench:activity_loop`: `count` activity calls in sequence."""

    @workflow.run
    async def run(self, count: int) -> int:
        total = 0
        for i in range(1, count + 1):
            total += await workflow.execute_activity(double, i, **SAME_OPTIONS)
        return total


NATIVE_WORKFLOWS = [OneActivity, ActivityLoop]


@attrs.frozen
class BootedApp:
    server: EmbeddedServer
    runtime: AppRuntime

    @property
    def client(self) -> Client:
        """The app's own client: it carries the Lua payload converter."""
        host = self.runtime.node.host(WORKER_ID)
        assert isinstance(host, WorkflowHost)
        return host.client


@functools.cache
def forward_core_logs() -> None:
    """Send the SDK core's log lines to Python logging. By default the core prints them on
    stdout (a warning about an activity finishing after shutdown, say), where they would
    mix with the benchmark's one line of output. Once per process: the default runtime can
    only be set before any client exists."""
    forwarding = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
    logs = LoggingConfig(filter=TelemetryFilter("WARN", "ERROR"), forwarding=forwarding)
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=logs)))


@contextlib.asynccontextmanager
async def native_worker(
    address: str,
    task_queue: str = NATIVE_QUEUE,
    runner: WorkflowRunner | None = None,
) -> AsyncIterator[Client]:
    """A plain temporalio worker of the Python twins on `task_queue`, and its client; the
    SDK's own unsandboxed workflow instances unless `runner` says otherwise. (The twins
    are `sandboxed=False`, so the worker's `unsandboxed_workflow_runner` is the one that
    serves them; its `workflow_runner` is for sandboxed workflows.)"""
    client = await Client.connect(address)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=NATIVE_WORKFLOWS,
        activities=[double],
        unsandboxed_workflow_runner=runner or UnsandboxedWorkflowRunner(),
    ):
        yield client


@contextlib.asynccontextmanager
async def booted_app() -> AsyncIterator[BootedApp]:
    """The app on a fresh in-memory server, for the duration of the block."""
    forward_core_logs()
    async with EmbeddedServer() as server:
        runtime = AppRuntime.load(APP, settings={"temporal_address": server.address})
        if runtime.errors:
            raise RuntimeError(f"{APP}: {runtime.errors}")
        async with runtime.node:
            await runtime.start(services=False)
            yield BootedApp(server, runtime)
