"""The cache of small blocks in front of each Lua state's allocator (`_allocator.c`): every
host's state has one, values survive it intact, a state that is made keeps none of its
parser's garbage, and closing a state gives the cache back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import lupa.lua54 as lupa
import pytest

from actors.runtime import AppRuntime
from lua_bindings import allocator
from lua_bindings.host import LuaHost
from tests.lua_harness import ECHO, lua_entry, run_lua, write_app

# Tables of every size class (a table and its array and hash parts), strings from one byte
# to past the largest class, made, dropped, collected and made again: a block handed out
# smaller than asked would corrupt a neighbour, and the sums would differ.
CHURN = """
local function build(round)
  local made = {}
  for n = 1, 300 do
    local t = {}
    for i = 1, n % 40 do t[i] = i * round end
    for i = 1, n % 23 do t["k" .. i] = string.rep("x", (n * i) % 300 + 1) end
    made[n] = t
  end
  return made
end
local function sum(made)
  local total = 0
  for _, t in ipairs(made) do
    for _, v in pairs(t) do total = total + (type(v) == "string" and #v or v) end
  end
  return total
end
local first = sum(build(1))
for round = 1, 30 do
  build(round)
  collectgarbage()
end
return first, sum(build(1))
"""


@pytest.fixture
def fresh_runtime() -> Iterator[lupa.LuaRuntime]:
    runtime = lupa.LuaRuntime(register_eval=False)
    yield runtime
    del runtime
    gc.collect()


def test_the_cache_is_built() -> None:
    """Without it Lua states still work, a tenth slower: an install that lost the C
    compiler must show here, not only in the benchmarks."""
    assert allocator.library() is not None


def test_blocks_made_before_and_after_the_cache_are_served_intact(
    fresh_runtime: lupa.LuaRuntime,
) -> None:
    before = fresh_runtime.execute(CHURN)  # blocks of the C library's allocator alone
    assert allocator.install(fresh_runtime) is not None
    first, again = fresh_runtime.execute(CHURN)
    assert first == again == before[0]


def test_closing_a_state_gives_its_cache_back() -> None:
    live = allocator.live_caches()
    runtime = lupa.LuaRuntime(register_eval=False)
    assert allocator.install(runtime) is not None
    runtime.execute(CHURN)  # the cache now holds blocks
    assert allocator.live_caches() == live + 1
    del runtime
    gc.collect()
    assert allocator.live_caches() == live


def test_a_state_is_cached_once(fresh_runtime: lupa.LuaRuntime) -> None:
    assert allocator.install(fresh_runtime) is not None
    assert allocator.install(fresh_runtime) is None
    assert fresh_runtime.execute(CHURN)[0] > 0


def test_trim_gives_the_free_blocks_back(fresh_runtime: lupa.LuaRuntime) -> None:
    trim = allocator.install(fresh_runtime)
    assert trim is not None
    fresh_runtime.execute(CHURN)
    assert trim() > 16 * 1024  # CHURN's garbage: thousands of small blocks
    assert trim() == 0
    first, again = fresh_runtime.execute(CHURN)  # and the cache fills and serves again
    assert first == again


def test_a_state_with_an_allocator_of_its_own_keeps_it() -> None:
    """lupa's `max_memory` counts every block in an allocator of its own: a cache in front
    of it would hide blocks from the count, so it is left alone."""
    runtime = lupa.LuaRuntime(register_eval=False, max_memory=64 * 1024 * 1024)
    assert allocator.install(runtime) is None
    first, again = runtime.execute(CHURN)
    assert first == again


def test_the_cache_can_be_turned_off(
    fresh_runtime: lupa.LuaRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(allocator, "enabled", False)
    assert allocator.install(fresh_runtime) is None


MESSAGES = """
return {main = function()
  local echo = process.spawn("test:echo", "test:processes")
  local inbox = process.inbox()
  local bad = 0
  for n = 1, 2000 do
    local value = {n = n, text = string.rep("v", n % 300), list = {n, n + 1, {deep = n}}}
    process.send(echo, "ping", value)
    local got = inbox:receive():payload():data()
    if got.n ~= n or #got.text ~= n % 300 or got.list[3].deep ~= n then bad = bad + 1 end
  end
  process.send(echo, "stop")
  return bad
end}
"""


@pytest.mark.anyio
async def test_every_hosts_state_has_the_cache_without_the_garbage_of_its_making(
    tmp_path: Path,
) -> None:
    app = write_app(
        tmp_path / "app", MESSAGES, files={"echo.lua": ECHO}, entries=[lua_entry("echo")]
    )
    runtime = AppRuntime.load(app)
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host("test:processes")
        assert isinstance(host, LuaHost)
        assert host.state.allocator_cached is True
        # settled once made: what the cache holds now is the start's few frees, not the
        # hundreds of kilobytes that parsing core.lua and the modules freed
        assert host.state.settle() < 16 * 1024


@pytest.mark.anyio
async def test_messages_between_processes_arrive_intact_through_the_cache(
    tmp_path: Path,
) -> None:
    exit = await run_lua(tmp_path, MESSAGES, files={"echo.lua": ECHO}, entries=[lua_entry("echo")])
    assert exit.error is None
    assert exit.value == 0
