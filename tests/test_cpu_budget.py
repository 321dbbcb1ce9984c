"""A CPU budget on every host by default (issue 12, item 3): a process that never yields
fails with `Timeout` and the node goes on serving, as Erlang pre-empts by reductions."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from actors.runtime import AppRuntime
from lua_bindings.host import DEFAULT_CPU_BUDGET, LuaHost
from tests.lua_harness import run_lua, write_app

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
