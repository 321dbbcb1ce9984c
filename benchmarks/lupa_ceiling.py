"""The ceiling of any Python-driven Lua scheduler: bare lupa coroutine resume pairs.

Python resumes two Lua coroutines alternately, passing one value, with nothing else around
it; a round trip of `lua_pingpong` needs at least this. Pure-Lua ping-pong (the two
coroutines resuming each other inside Lua) is printed beside it.
"""

from __future__ import annotations

import time

import lupa.lua54 as lupa

from benchmarks.harness import report

PAIRS = 300_000


def _python_driven() -> float:
    lua = lupa.LuaRuntime(encoding=None)
    # One Python->Lua call per resume, as a scheduler that steps tasks by id must make.
    resume = lua.eval(
        """(function()
          local tasks = {}
          for i = 1, 2 do
            tasks[i] = coroutine.create(function(v) while true do v = coroutine.yield(v) end end)
          end
          local resume = coroutine.resume
          return function(id, v) local _, r = resume(tasks[id], v); return r end
        end)()"""
    )
    ping, pong = 1, 2
    started = time.perf_counter()
    value = 0
    for _ in range(PAIRS):
        value = resume(ping, value)
        value = resume(pong, value)
    return PAIRS / (time.perf_counter() - started)


def _inside_lua() -> float:
    lua = lupa.LuaRuntime(encoding=None)
    run = lua.eval(
        """function(n)
          local yield, resume = coroutine.yield, coroutine.resume
          local function body(v) while true do v = yield(v) end end
          local ping, pong = coroutine.create(body), coroutine.create(body)
          local t0, v = os.clock(), 0
          for _ = 1, n do
            local _, a = resume(ping, v)
            local _, b = resume(pong, a)
            v = b
          end
          return os.clock() - t0
        end"""
    )
    return PAIRS / run(PAIRS)


def main() -> None:
    report("lupa_ceiling", "python_resume_pairs_per_s", max(_python_driven() for _ in range(3)))
    report("lupa_ceiling", "lua_resume_pairs_per_s", max(_inside_lua() for _ in range(3)))
