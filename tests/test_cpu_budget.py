"""A CPU budget on every host by default (issue 12, item 3): a process that never yields
fails with `Timeout` and the node goes on serving, as Erlang pre-empts by reductions."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from lua_bindings import watchdog
from lua_bindings.host import DEFAULT_CPU_BUDGET, LuaHost
from tests.lua_harness import lua_entry, run_lua, write_app

pytestmark = pytest.mark.anyio

SPIN = {"spin.lua": "return {main = function() while true do end end}"}
ENTRIES = [
    {"name": "spin", "kind": "process.lua", "source": "file://spin.lua", "method": "main"},
    {"name": "echo", "kind": "process.lua", "source": "file://echo.lua", "method": "main"},
]
ECHO = """
return {main = function()
  local inbox = process.inbox()
  while true do
    local msg = inbox:receive()
    process.send(msg:from(), "echo", msg:payload():data())
  end
end}
"""

MAIN = """
local time = require("time")
return {main = function()
  local echo = process.spawn("test:echo", "test:processes")
  local spin = process.spawn_monitored("test:spin", "test:processes")
  local started = os.clock()
  local exit = process.events():receive()
  local spent = os.clock() - started
  -- the node still serves: a timer fires and another process answers
  time.sleep("5ms")
  process.send(echo, "ping", "still here")
  local reply = process.inbox():receive():payload():data()
  process.terminate(echo)
  return {
    kind = exit.result.error:kind(),
    message = exit.result.error:message(),
    spent = spent,
    reply = reply,
  }
end}
"""


async def test_a_runaway_process_fails_with_timeout_by_default(tmp_path: Path) -> None:
    event = await run_lua(
        tmp_path,
        MAIN,
        modules=["time"],
        files={**SPIN, "echo.lua": ECHO},
        entries=ENTRIES,
        timeout=DEFAULT_CPU_BUDGET + 20,
    )
    assert event.error is None, event.error
    value = event.value
    assert value["kind"] == "Timeout"
    assert f"more than {DEFAULT_CPU_BUDGET:g}s without yielding" in value["message"]
    assert value["spent"] >= DEFAULT_CPU_BUDGET * 0.9
    assert value["reply"] == "still here"


async def test_the_budget_is_set_per_host(tmp_path: Path) -> None:
    event = await run_lua(
        tmp_path,
        MAIN,
        modules=["time"],
        files={**SPIN, "echo.lua": ECHO},
        entries=ENTRIES,
        host_options={"cpu_budget": "150ms"},
    )
    assert event.error is None, event.error
    assert event.value["kind"] == "Timeout"
    assert "more than 0.15s without yielding" in event.value["message"]
    assert event.value["spent"] < 2


@pytest.mark.parametrize("budget", ["-1s", "soon"])
async def test_a_bad_budget_is_a_loading_error_and_the_default_applies(
    tmp_path: Path, budget: str
) -> None:
    app_dir = write_app(tmp_path / "app", MAIN, host_options={"cpu_budget": budget})
    runtime = AppRuntime.load(app_dir)
    assert any("cpu_budget" in str(e) or "duration" in str(e) for e in runtime.errors)
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host("test:processes")
        assert isinstance(host, LuaHost)
        assert host.cpu_budget == DEFAULT_CPU_BUDGET
        await anyio.sleep(0.01)  # let the hosts' start tasks run before the node stops


NESTED = {
    "nested.lua": """
return {main = function()
  -- a spin two coroutines deep: the watchdog follows the process's own resumes
  -- (bounded, so that a budget that does not fire fails the test instead of hanging it)
  coroutine.wrap(function()
    coroutine.wrap(function()
      local t = os.clock()
      while os.clock() - t < 3 do end
    end)()
  end)()
  return "not interrupted"
end}
""",
    "busy.lua": """
local time = require("time")
return {main = function()
  -- 30 steps of 20 ms CPU each: far more than the budget in all, under it in each step
  for _ = 1, 30 do
    local t = os.clock()
    while os.clock() - t < 0.02 do end
    time.sleep("1ms")
  end
  return "done"
end}
""",
}
NESTED_ENTRIES = [lua_entry(name, modules=["time"]) for name in ("nested", "busy")]
RUN_BOTH = """
return {main = function()
  local events = process.events()
  local results = {}
  for _, name in ipairs({"nested", "busy"}) do
    local started = os.clock()
    process.spawn_monitored("test:" .. name, "test:processes")
    local r = events:receive().result
    results[name] = r.error and r.error:kind() or r.value
    results[name .. "_cpu"] = os.clock() - started
  end
  return results
end}
"""


@contextlib.asynccontextmanager
async def booted(app_dir: Path) -> AsyncIterator[tuple[AppRuntime, LuaHost]]:
    """The app of `app_dir` started, and its `test:processes` host."""
    runtime = AppRuntime.load(app_dir)
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host("test:processes")
        assert isinstance(host, LuaHost)
        yield runtime, host


def test_the_watchdog_is_built() -> None:
    """Without it every budget falls back to the count hook, a third slower: an install
    that lost the C compiler must show here, not only in the benchmarks."""
    assert watchdog.library() is not None


@pytest.mark.parametrize("use_watchdog", [True, False], ids=["watchdog", "count_hook"])
async def test_the_budget_is_per_step_and_follows_a_processs_own_coroutines(
    tmp_path: Path, use_watchdog: bool
) -> None:
    app_dir = write_app(
        tmp_path / "app",
        RUN_BOTH,
        modules=["time"],
        files=NESTED,
        entries=NESTED_ENTRIES,
        host_options={"cpu_budget": "150ms"},
    )
    async with booted(app_dir) as (runtime, host):
        host.state.set_cpu_budget(0.15, use_watchdog)
        pid = await runtime.node.spawn("test:processes", SpawnRequest(target="test:main"))
        with anyio.fail_after(20):
            event = await host.wait_exit(pid)
    assert event.error is None, event.error
    value = event.value
    assert (value["nested"], value["busy"]) == ("Timeout", "done")
    assert value["nested_cpu"] < 1.5  # stopped near its budget, not at the end of its 3 s
    assert value["busy_cpu"] > 0.6


SLOW_EXIT = {
    "quick.lua": 'return {main = function() return "quick" end}',
    "worker.lua": """
return {main = function()
  local t = os.clock()
  while os.clock() - t < 0.03 do end
  return "fine"
end}
""",
}


async def test_python_work_on_an_exit_does_not_fail_the_next_process(tmp_path: Path) -> None:
    """The kernel tells the watchdog a step is over once, when its batch ends, so Python's
    work on an exit between two steps counts to the step that ended. Here that work takes
    far more than the budget: the watchdog dooms the ended step and arms its hook on the
    exited process's coroutine, which the pool hands to the next process. That process
    runs in a new step, and the hook finds nothing to stop."""
    app_dir = write_app(
        tmp_path / "app",
        'return {main = function() return "unused" end}',
        files=SLOW_EXIT,
        entries=[lua_entry("quick"), lua_entry("worker")],
        host_options={"cpu_budget": "50ms"},
    )
    async with booted(app_dir) as (runtime, host):
        finish = host.finish

        def slow_finish(process: Any, value: Any, error: Any, kernel_drops: bool = False) -> None:
            if value == "quick":
                started = time.thread_time()
                while time.thread_time() - started < 0.3:
                    pass
            finish(process, value, error, kernel_drops)

        host.finish = slow_finish  # type: ignore[method-assign]
        with anyio.fail_after(20):
            quick = await runtime.node.spawn("test:processes", SpawnRequest(target="test:quick"))
            quick_exit = await host.wait_exit(quick)
            _, reused_before = host.state.rt.pool_stats()
            worker = await runtime.node.spawn("test:processes", SpawnRequest(target="test:worker"))
            worker_exit = await host.wait_exit(worker)
        _, reused_after = host.state.rt.pool_stats()
    assert (quick_exit.error, quick_exit.value) == (None, "quick")
    assert reused_after == reused_before + 1  # the worker ran in the quick one's coroutine
    assert (worker_exit.error, worker_exit.value) == (None, "fine")
