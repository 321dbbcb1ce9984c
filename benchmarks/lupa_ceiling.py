"""The ceiling of any Python-driven Lua scheduler: bare lupa coroutine resume pairs.

Python resumes two Lua coroutines alternately, passing one value, with nothing else around
it; a round trip of `lua_pingpong` needs at least this. Pure-Lua ping-pong (the two
coroutines resuming each other inside Lua) is printed beside it.

`spawn_cycles_per_s` is the same for `lua_spawn`: the work a spawn + monitor + exit cycle
cannot do without, in plain Lua with no kernel around it. Per cycle: a PID's text, a
process's table of the kernel's fields and its environment, entered in two maps and taken
out again; a pooled coroutine that instantiates the child's module in that environment and
calls its entry point; the exit event, handed to the waiting parent by a resume.
"""

from __future__ import annotations

import time

import lupa.lua54 as lupa

from benchmarks.harness import report

PAIRS = 300_000
SPAWN_CYCLES = 200_000


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


SPAWN_CYCLE = """function(n)
  local create, resume, yield = coroutine.create, coroutine.resume, coroutine.yield
  local HEX = {[0] = "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
               "a", "b", "c", "d", "e", "f"}
  local factory = load(string.dump(load(
    "return function(_ENV) return function(...) return {main = function() return 1 end} end end"
  )))()
  local ENV_MT = {__index = function() end}
  local function trampoline(f) return trampoline(yield(f())) end
  local parent = create(function() while true do yield() end end)
  local contexts, routes, pool, pooled = {}, {}, {}, 0
  local t0 = os.clock()
  for i = 1, n do
    local k = i % 0x100000  -- the PID's text as the kernel writes it (core.lua, pid_text)
    local pid = "{host|0x" .. HEX[k >> 16] .. HEX[(k >> 12) & 15] .. HEX[(k >> 8) & 15]
                .. HEX[(k >> 4) & 15] .. HEX[k & 15] .. "}"
    local ctx = {false, id = i, alive = true, pid = pid, h = 1, t = 0, tasks = {main = nil},
                 queued = false, main = 0, plain = true, futures = false, entry = false,
                 method = "main", env = nil, lua_only = true, watcher = "parent", links = nil}
    contexts[i], routes[pid] = ctx, i
    ctx.env = setmetatable({require = nil, _G = false}, ENV_MT)
    local co = pool[pooled]
    if co then pool[pooled], pooled = nil, pooled - 1 else co = create(trampoline) end
    local _, value = resume(co, function() return factory(ctx.env)().main() end)
    contexts[i], routes[pid] = nil, nil
    pooled = pooled + 1
    pool[pooled] = co
    resume(parent, {kind = "EXIT", from = pid, at = 0, result = {value = value}})
  end
  return os.clock() - t0
end"""


def spawn_floor() -> float:
    """Spawn cycles per CPU second of SPAWN_CYCLE (`lua_spawn` reports its own beside it)."""
    lua = lupa.LuaRuntime(encoding=None)
    return SPAWN_CYCLES / lua.eval(SPAWN_CYCLE)(SPAWN_CYCLES)


def main() -> None:
    report("lupa_ceiling", "python_resume_pairs_per_s", max(_python_driven() for _ in range(3)))
    report("lupa_ceiling", "lua_resume_pairs_per_s", max(_inside_lua() for _ in range(3)))
    report("lupa_ceiling", "spawn_cycles_per_s", max(spawn_floor() for _ in range(3)))
