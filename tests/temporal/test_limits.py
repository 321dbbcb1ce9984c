"""Temporal's history limits (issue 12 item 7): a server that terminates workflows at 1 500
history events, the long-lived example that rolls its history over, and the send guard that
refuses messages before the server would terminate a workflow that does not."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from temporalio.client import WorkflowExecutionStatus

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from temporal_host.embedded import EmbeddedServer
from temporal_host.host import WorkflowHost
from temporal_host.limits import HistoryLimits, Warnings

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).parents[2] / "examples" / "long_lived"
EVENTS_LIMIT = 1500


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def strict_server() -> Iterator[EmbeddedServer]:
    """A dev server whose history limit is 1 500 events (Temporal's default is 51 200)."""
    server = EmbeddedServer(
        dynamic_config={
            "limit.historyCount.error": EVENTS_LIMIT,
            "limit.historyCount.warn": EVENTS_LIMIT // 5,
        }
    )
    anyio.run(server.start)
    try:
        yield server
    finally:
        anyio.run(server.stop)


@pytest.fixture(scope="module")
async def runtime(strict_server: EmbeddedServer) -> AsyncIterator[AppRuntime]:
    runtime = AppRuntime.load(
        EXAMPLE,
        overrides=[f"long_lived:temporal:history_limits.events={EVENTS_LIMIT}"],
        settings={"temporal_address": strict_server.address, "ephemeral": True},
    )
    assert not runtime.errors, runtime.errors
    async with runtime.node:
        await runtime.start()
        yield runtime


async def feed(runtime: AppRuntime, count: int, max_events: int) -> Any:
    node = runtime.node
    pid = await node.spawn(
        "long_lived:processes", SpawnRequest("long_lived:feed", (count, max_events))
    )
    with anyio.fail_after(120):
        return await node.host("long_lived:processes").wait_exit(pid)


async def test_the_long_lived_tally_rolls_its_history_over(runtime: AppRuntime) -> None:
    """2 000 messages at about four history events each would pass the server's limit four
    times over; the tally continues as new every 400 events and loses nothing."""
    event = await feed(runtime, 2000, 400)
    assert event.error is None, event.error
    assert event.value["total"] == 2000 * 2001 // 2
    assert event.value["runs"] >= 4
    host = runtime.node.host("long_lived:worker")
    assert isinstance(host, WorkflowHost)
    handle = host.client.get_workflow_handle("long-lived-tally")
    await handle.signal("stop")
    with anyio.fail_after(30):
        assert (await handle.result())["total"] == 2000 * 2001 // 2


async def test_senders_are_refused_before_the_server_terminates_the_workflow(
    runtime: AppRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    """A tally that never continues as new: the feed is refused with RateLimited while the
    workflow still runs, and the workflow warned about its history first."""
    host = runtime.node.host("long_lived:worker")
    assert isinstance(host, WorkflowHost)
    handle = host.client.get_workflow_handle("long-lived-tally")
    with caplog.at_level(logging.WARNING):
        event = await feed(runtime, 2000, 10**9)
    assert event.error is not None and event.error.kind == "RateLimited", event.error
    assert event.error.retryable is True
    assert "near Temporal's limit" in event.error.message
    assert f"of {EVENTS_LIMIT} events" in event.error.message
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert description.history_length < EVENTS_LIMIT
    assert "history grows near Temporal's limit" in caplog.text
    await handle.terminate("test cleanup")


def test_history_warnings_are_logged_once_per_level(caplog: pytest.LogCaptureFixture) -> None:
    warnings = Warnings(HistoryLimits(events=100, bytes=10_000))
    logger = logging.getLogger("test.limits")
    with caplog.at_level(logging.WARNING):
        for length in (10, 25, 30, 95, 99):
            warnings.check(logger, "wf", length, 0)
    assert [r.getMessage().split(":")[1].strip() for r in caplog.records] == [
        "history grows near Temporal's limit (25 of 100 events, 0 of 10000 bytes",
        "history is near Temporal's limit (95 of 100 events, 0 of 10000 bytes",
    ]
