"""How a worker runs a `function.lua` activity (`LuaActivities._call`): on the in-memory
`funcs` host, a function that does not block has run and exited before the activity's task
first yields, so its answer needs no pass of the event loop; one that blocks is awaited."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from actors.runtime import AppRuntime
from lua_bindings.host import FUNCS_HOST, LuaHost
from temporal_host.activities import LuaActivities
from tests.lua_harness import lua_entry, write_app

pytestmark = pytest.mark.anyio

FUNCTIONS = {
    "double.lua": "return {main = function(n) return n * 2 end}",
    "fails.lua": 'return {main = function() error("no luck") end}',
    "waits.lua": """
        local time = require("time")
        return {main = function(n) time.sleep("20ms"); return n + 1 end}
    """,
}


@contextlib.asynccontextmanager
async def worker_activities(tmp_path: Path) -> AsyncIterator[tuple[LuaHost, LuaActivities]]:
    """The app booted with its `funcs` host's driver asleep, as between two activities, and
    a worker's activities on it."""
    entries = [lua_entry(name[:-4], "function.lua", modules=["time"]) for name in FUNCTIONS]
    app = write_app(
        tmp_path / "app", "return {main = function() end}", files=FUNCTIONS, entries=entries
    )
    runtime = AppRuntime.load(app)
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host(FUNCS_HOST)
        assert isinstance(host, LuaHost)
        with anyio.fail_after(10):
            while host.scheduler._wake is None:
                await anyio.sleep(0.001)
        yield host, LuaActivities(SimpleNamespace(runtime=runtime))  # type: ignore[arg-type]


def first_step(activities: LuaActivities, target: str, *args: Any) -> Any:
    """The EXIT event `_call` returns on its first step; fails if it yields instead."""
    work = activities._call(FUNCS_HOST, target, args)
    try:
        work.send(None)
    except StopIteration as stop:
        return stop.value
    work.close()
    raise AssertionError(f"{target} did not answer before the activity's task yielded")


async def test_a_function_that_does_not_block_answers_on_the_first_step(tmp_path: Path) -> None:
    async with worker_activities(tmp_path) as (host, activities):
        assert first_step(activities, "test:double", 21).value == 42
        failed = first_step(activities, "test:fails")
        assert failed.error is not None and "no luck" in failed.error.message
        # Nothing is left behind: the processes exited and their host is idle.
        assert not host.processes and not host.scheduler.busy


async def test_a_function_that_blocks_is_awaited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside a real activity there is no heartbeat timeout to read.
    monkeypatch.setattr("temporal_host.activities._heartbeat_interval", lambda: None)
    async with worker_activities(tmp_path) as (_, activities):
        with anyio.fail_after(10):
            event = await activities._call(FUNCS_HOST, "test:waits", (1,))
        assert event.value == 2
