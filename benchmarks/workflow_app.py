"""Shared set-up for the workflow benchmarks: an in-memory embedded Temporal server and
`benchmarks/apps/workflows` booted against it, its Lua worker polling."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
from temporalio.client import Client
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from actors.runtime import AppRuntime
from temporal_host.embedded import EmbeddedServer
from temporal_host.host import WorkflowHost

APP = Path(__file__).parent / "apps" / "workflows"
CLIENT_ID = "wfbench:temporal"
WORKER_ID = "wfbench:worker"
TASK_QUEUE = "bench-lua"


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
