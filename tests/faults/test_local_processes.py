"""Many local processes: every message delivered once and in per-sender order, and spawn /
exit cycles that give the memory back. Short form: 500 processes × 20 messages from 4
senders, 5 000 cycles; soak: 10 000 processes × 100 messages, 100 000 cycles."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from tests.faults.conftest import report, scale

pytestmark = pytest.mark.anyio

APP = Path(__file__).parents[1] / "apps" / "faults"
PROCESSES = "faults:processes"


def rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
async def runtime() -> AsyncIterator[AppRuntime]:
    # Only the local side: the Temporal entries are not started without a server.
    from lua_bindings import plugin as lua_plugin

    runtime = AppRuntime.load(APP, plugins=[lua_plugin.KINDS])
    assert not runtime.errors, runtime.errors
    async with runtime.node:
        await runtime.start()
        yield runtime


async def run(runtime: AppRuntime, target: str, *args: Any, timeout: float = 600) -> Any:
    node = runtime.node
    pid = await node.spawn(PROCESSES, SpawnRequest(target, args))
    with anyio.fail_after(timeout):
        event = await node.host(PROCESSES).wait_exit(pid)
    assert event.error is None, event.error
    return event.value


async def test_every_message_once_and_in_order(runtime: AppRuntime) -> None:
    processes, messages = scale(500, 10_000), scale(20, 100)
    started = time.monotonic()
    out = await run(runtime, "faults:fan", processes, messages, 4)
    seconds = time.monotonic() - started
    assert out == {"receivers": processes, "delivered": processes * messages, "out_of_order": 0}
    report("local_fan", "messages", processes * messages)
    report("local_fan", "messages_per_s", round(processes * messages / seconds))


async def test_spawn_exit_cycles_return_the_memory(runtime: AppRuntime) -> None:
    cycles = scale(5_000, 100_000)
    await run(runtime, "faults:cycles", 1_000, 100)  # warm up: caches, arenas
    before = rss_bytes()
    assert await run(runtime, "faults:cycles", cycles, 100) == cycles
    after = rss_bytes()
    growth = (after - before) / before
    report("spawn_exit", "cycles", cycles)
    report("spawn_exit", "rss_growth_pct", round(growth * 100, 1))
    assert growth < 0.10, f"RSS {before} -> {after}"
