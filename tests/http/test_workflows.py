"""HTTP and workflows: refused in workflow code, allowed in activities (a real dev server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from temporal_host.embedded import EmbeddedServer

pytestmark = pytest.mark.anyio

APP = Path(__file__).parent / "apps" / "durable"
WORKER = "wf:worker"


@pytest.fixture
async def runtime(temporal_server: EmbeddedServer) -> AsyncIterator[AppRuntime]:
    runtime = AppRuntime.load(APP, settings={"temporal_address": temporal_server.address})
    assert runtime.errors == []
    async with runtime.node:
        await runtime.start()
        yield runtime


async def _run(runtime: AppRuntime, workflow: str, *args: Any) -> Any:
    node = runtime.node
    pid = await node.spawn(WORKER, SpawnRequest(target=workflow, args=args))
    with anyio.fail_after(60):
        event = await node.host(WORKER).wait_exit(pid)
    assert event.error is None, event.error
    return event.value


async def test_workflow_code_cannot_use_http(runtime: AppRuntime) -> None:
    result = await _run(runtime, "wf:refuses")
    for name in ("http", "http_client"):
        assert result[name]["ok"] is False
        assert result[name]["kind"] == "Invalid"
        message = result[name]["message"]
        assert message.startswith(f'module "{name}" cannot be used in a workflow')
        assert "do this work in an activity" in message


async def test_an_activity_may_use_http_client(runtime: AppRuntime) -> None:
    url = runtime.extensions["http_servers"]["wf:server"].url + "/hello"
    result = await _run(runtime, "wf:fetches", url)
    assert result == {"status": 200, "body": '{"hello":"from the server"}'}
