-- The deterministic environment of a workflow's Lua state (temporal.md §8.1, §8.3).
--
-- Run once per state, before any workflow code: it replaces what app environments copy from
-- the real globals (`pairs`, `next`) and the `os` functions they share. It returns `wake_run`
-- (at the end), which also seeds `math.random` for each run that takes the state (states
-- are reused by the next run of the same entry), `deferred_thread` and `boot_run`. `py`
-- is the Python half (driver.py `_env_functions`).

local rt, py = ...
local type, rawget, error, getmetatable = type, rawget, error, debug.getmetatable
local raw_next, sort, math_type = next, table.sort, math.type
local weak_keys = {__mode = "k"}

-----------------------------------------------------------------------------------------
-- pairs / next: integers, floats, strings (byte order), false, true, then reference keys
-----------------------------------------------------------------------------------------

-- Reference-typed keys (tables, functions, userdata, coroutines) have no identity that
-- survives a replay; they come last, in Lua's own order, and workflow code must not let
-- that order influence what it does (documented in docs/workflows.md).
local function sorted_keys(t)
  local ints, floats, strings, refs = {}, {}, {}, {}
  local has_false, has_true = false, false
  for k in raw_next, t do
    local kt = type(k)
    if kt == "number" then
      if math_type(k) == "integer" then ints[#ints + 1] = k else floats[#floats + 1] = k end
    elseif kt == "string" then
      strings[#strings + 1] = k
    elseif kt == "boolean" then
      if k then has_true = true else has_false = true end
    else
      refs[#refs + 1] = k
    end
  end
  sort(ints)
  sort(floats)
  if #strings > 1 then strings = py.sort_strings(strings) end
  local keys, n = ints, #ints
  for i = 1, #floats do n = n + 1; keys[n] = floats[i] end
  for i = 1, #strings do n = n + 1; keys[n] = strings[i] end
  if has_false then n = n + 1; keys[n] = false end
  if has_true then n = n + 1; keys[n] = true end
  for i = 1, #refs do n = n + 1; keys[n] = refs[i] end
  return keys, n
end

-- next(t, k): the order above, linear over a traversal thanks to a per-table cache of the
-- sorted keys and their positions, rebuilt when `k` is not in it (a new traversal).
local CACHE = setmetatable({}, weak_keys)

local function build(t)
  local keys, n = sorted_keys(t)
  local index = {}
  for i = 1, n do index[keys[i]] = i end
  local entry = {keys = keys, n = n, index = index}
  CACHE[t] = entry
  return entry
end

local function successor(t, entry, i)
  local keys = entry.keys
  for j = i + 1, entry.n do
    local key = keys[j]
    local v = rawget(t, key)
    if v ~= nil then return key, v end
  end
  return nil
end

local function det_next(t, k)
  if type(t) ~= "table" then
    error("bad argument #1 to 'next' (table expected, got " .. type(t) .. ")", 2)
  end
  if k == nil then
    if raw_next(t) == nil then return nil end
    return successor(t, build(t), 0)
  end
  local entry = CACHE[t]
  local i = entry and entry.index[k]
  if i == nil then
    entry = build(t)
    i = entry.index[k]
    if i == nil then error("invalid key to 'next'", 2) end
  end
  return successor(t, entry, i)
end

-- pairs(t): honours __pairs; otherwise walks a sorted copy of the keys taken now, skipping
-- keys whose value became nil (clearing fields during traversal stays legal).
local function det_pairs(t)
  local mt = getmetatable(t)
  local meta_pairs = mt and rawget(mt, "__pairs")
  if meta_pairs then
    local f, s, c = meta_pairs(t)
    return f, s, c
  end
  if type(t) ~= "table" then
    error("bad argument #1 to 'for iterator' (table expected, got " .. type(t) .. ")", 2)
  end
  local keys, n = sorted_keys(t)
  local i = 0
  local function iterate()
    while i < n do
      i = i + 1
      local key = keys[i]
      local v = rawget(t, key)
      if v ~= nil then return key, v end
    end
    return nil
  end
  return iterate, t, nil
end

_G.pairs = det_pairs
_G.next = det_next

-----------------------------------------------------------------------------------------
-- os: workflow time, UTC, elapsed workflow time for os.clock
-----------------------------------------------------------------------------------------

local os_lib = rt.os_lib
local now_ns, elapsed, os_time = py.now_ns, py.elapsed, py.os_time
local real_date = os.date

local function field(t, name, default)
  local v = t[name]
  if v == nil then
    if default == nil then error("field '" .. name .. "' missing in date table", 3) end
    return default
  end
  local i = math.tointeger(v)
  if i == nil then error("field '" .. name .. "' is not an integer", 3) end
  return i
end

os_lib.time = function(t)
  if t == nil then return now_ns() // 1000000000 end
  if type(t) ~= "table" then
    error("bad argument #1 to 'time' (table expected, got " .. type(t) .. ")", 2)
  end
  return os_time(field(t, "year"), field(t, "month"), field(t, "day"),
                 field(t, "hour", 12), field(t, "min", 0), field(t, "sec", 0))
end

-- Always UTC: the worker's time zone is not part of the history.
os_lib.date = function(format, t)
  format = format or "%c"
  if type(format) == "string" and format:sub(1, 1) ~= "!" then format = "!" .. format end
  return real_date(format, t or now_ns() // 1000000000)
end

os_lib.clock = function() return elapsed() end

-----------------------------------------------------------------------------------------
-- math.random: seeded per run from the workflow's deterministic randomness
-----------------------------------------------------------------------------------------

local randomseed = math.randomseed  -- wake_run applies a run's seed before its first step

-----------------------------------------------------------------------------------------
-- wake_run: a workflow task's answers, the kernel, and the call that stopped it, in one
-- call into Lua
-----------------------------------------------------------------------------------------

-- The first call into Lua of a workflow task costs 10-20 us more than the next ones
-- (lupa's and Lua's code and data are cold after the SDK's own work between two tasks),
-- and so does each crossing back into Python: a task is answered and run in one call,
-- and the Python call a blocking API makes is handed back with the run's results.

-- rt.defer_call(fn, args...) from a task (funcs.call in a workflow, funcs.lua): instead of
-- calling Python `fn(context, task, args...)` from Lua, park the task, stop the kernel
-- after this resume (rt.halt) and let wake_run return the call; Python makes it before any
-- other Lua code runs (driver.py, `WorkflowScheduler._wake_and_run`), so commands are
-- issued in the same order, and an answer given at once resumes this task first
-- (rt.wake_first), as if `fn` had returned it here.
local running, halt, pack_, co_running = rt.running, rt.halt, table.pack, coroutine.running
local deferred, deferred_co = nil, nil
function rt.defer_call(fn, ...)
  local ctx, task = running()
  if ctx == 0 then return fn(ctx, task, ...) end  -- not in a task: nothing to stop
  deferred, deferred_co = pack_(fn, ctx, task, ...), co_running()
  halt()
  return 0
end
-- The coroutine that made the last deferred call (the replay tooling reads where its
-- command comes from while Python makes the call: actors/testing/replays.py).
local function deferred_thread() return deferred_co end

-- The exit of the run's process (py.finished's arguments), which wake_run hands back
-- instead of a call from Lua into Python while it runs: the kernel drops the context at
-- once, and Python applies the exit when wake_run returns, before anything else runs
-- (nothing of the process is left to run after its exit, and it is the state's only one).
local exit_id, exit_returned, exit_a, exit_b = nil, nil, nil, nil
rt.report_exits_with(function(id, returned, a, b)
  exit_id, exit_returned, exit_a, exit_b = id, returned, a, b
  return true
end)

-- wake_run(seed, budget, id, task, n, values..., id, task, n, values..., ...) seeds
-- `math.random` when `seed` is not nil (a run's first call: no workflow code has run
-- yet), then does what one `rt.wake(id, task, values...)` per answer, in their order, and
-- then `rt.run(budget)` did (driver.py, `WorkflowRun.step`). Returns run's result,
-- whether the state is now quiet (`rt.quiet`: the run's process ended, so the state may
-- serve the next run without another call into Lua to ask), the process's exit (context,
-- returned, a, b: all nil when it did not end), and then the deferred call (fn, context,
-- task, args...) when a task made one.
local wake, run, quiet, unpack, pack = rt.wake, rt.run, rt.quiet, table.unpack, table.pack
local function wake_run(seed, budget, ...)
  if seed ~= nil then randomseed(seed) end
  local n_args = select("#", ...)
  if n_args == 4 and select(3, ...) == 1 then  -- one answer of one value: the usual
    local id, task, _, value = ...
    wake(id, task, value)
  elseif n_args > 0 then
    local args = pack(...)
    local i = 1
    while i <= n_args do
      local n = args[i + 2]
      wake(args[i], args[i + 1], unpack(args, i + 3, i + 2 + n))
      i = i + 3 + n
    end
  end
  local ready = run(budget)
  local id, returned, a, b = exit_id, exit_returned, exit_a, exit_b
  if id ~= nil then exit_id, exit_returned, exit_a, exit_b = nil, nil, nil, nil end
  local call = deferred
  if call == nil then return ready, not ready and quiet(), id, returned, a, b end
  deferred = nil
  return ready, false, id, returned, a, b, unpack(call, 1, call.n)
end

-- boot_run(context, seed, budget, pid, routable, plain, entry_id, method, args...): a run's
-- first call into Lua, which makes its process as rt.new_process does, main made ready
-- with `args`, and runs it as wake_run does (the entry's chunk runs in the main task,
-- after the seed, as before). Python has recorded the process under `context`, the number
-- the context gets (only Python makes contexts in a workflow's state: it is never a node
-- host, so its processes spawn nothing in Lua), so that what Lua asks of Python while
-- main runs finds it. Returns the main task's id, then wake_run's results.
local new_process, next_context = rt.new_process, rt.next_context
local function boot_run(context, seed, budget, pid, routable, plain, entry_id, method, ...)
  if next_context() ~= context then
    error("workflow state: context " .. context .. " expected, " .. next_context() .. " next")
  end
  local _, main = new_process(pid, routable, plain, entry_id, method, true, ...)
  return main, wake_run(seed, budget)
end

return wake_run, deferred_thread, boot_run
