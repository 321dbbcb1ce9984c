-- The runtime core, run once in each host's Lua state before any app code.
--
-- It receives `py`, a table of Python callables, and returns `rt`, the Lua functions the
-- Python side drives the state with. Every process of the host lives in this state but
-- sees only its own environment, tasks and caches (its "context"), and values leave a
-- process only as copies made by Python, so processes stay as isolated as if each had a
-- state of its own, at a fraction of the memory and start-up cost.
--
-- The one scheduler rule every blocking API follows: a Python call either answers at once
-- or registers the current task as a waiter and says so, and then the Lua wrapper yields
-- PARK. Python resumes the task later with the answer.

local py, sample, watchdog = ...  -- watchdog: lua_bindings/_watchdog.c's module, or nil

-- Most of what processes allocate dies young (messages, their copies, short-lived
-- processes); the generational collector handles that 5-20 % faster (lua_spawn,
-- lua_pingpong) than the incremental one.
collectgarbage("generational")

local co_create, co_resume, co_yield, co_status, co_running =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.status, coroutine.running
local pack, unpack, select, type, tostring, setmetatable, error, rawequal, pairs, next =
  table.pack, table.unpack, select, type, tostring, setmetatable, error, rawequal, pairs, next
local traceback, dsetmetatable, dsethook = debug.traceback, debug.setmetatable, debug.sethook
local clock = os.clock
local load = load

-- PARK and DONE are functions so that `x == PARK` is a plain comparison: only tables and
-- userdata have __eq, so no value a process yields can run its own code in the test.
local function PARK() end
local rt = {PARK = PARK}

-----------------------------------------------------------------------------------------
-- Runtime objects: Python objects appear as userdata; their methods are Lua functions.
-----------------------------------------------------------------------------------------

local KIND = setmetatable({}, {__mode = "k"})   -- userdata -> methods table (or false)
local METHODS = {}                               -- kind name -> methods table
rt.METHODS = METHODS
local kind_of, py_tostring, py_same = py.kind_of, py.tostring, py.same

local function methods_of(o)
  local kind = kind_of(o)
  return kind and METHODS[kind] or false
end
rt.methods_of = methods_of

local ud_mt = getmetatable(sample)
ud_mt.__index = function(o, key)
  local m = methods_of(o)
  if m then return m[key] end
  return nil -- never expose Python attributes to app code
end
ud_mt.__newindex = function() error("runtime objects are read-only", 2) end
ud_mt.__tostring = function(o) return py_tostring(o) end
ud_mt.__concat = function(a, b) return tostring(a) .. tostring(b) end
ud_mt.__eq = function(a, b) return py_same(a, b) end
ud_mt.__len = function(o)
  local m = methods_of(o)
  local f = m and m.__len
  if f then return f(o) end
  error("attempt to get length of a " .. (kind_of(o) or "userdata") .. " value", 2)
end
ud_mt.__lt = function(a, b) return py.compare(a, b) < 0 end
ud_mt.__le = function(a, b) return py.compare(a, b) <= 0 end
ud_mt.__metatable = false

local function is_kind(v, kind)
  return type(v) == "userdata" and kind_of(v) == kind
end
rt.is_kind = is_kind

-----------------------------------------------------------------------------------------
-- The kernel: contexts, tasks and the run queue.
--
-- Every process of the host is a context; its coroutines ("tasks") become ready when a
-- channel hands them something, a message arrives or Python answers a parked call. Ready
-- contexts wait in RUNQ and `rt.run(budget)` resumes them here, in Lua: a message between
-- two Lua processes of one host never enters Python (docs/lua-runtime.md, "The kernel").
-----------------------------------------------------------------------------------------

local next_task = 0  -- task ids are unique in the state; a context's `tasks` maps its own
                     -- to their coroutines (no global table: fewer large tables for the
                     -- collector to walk)

-- The context of the process whose task runs now: per-process state lives here.
rt.current = nil
local current_task = 0

-- Contexts live here, keyed by a number Python chooses: Python never holds a Lua object
-- beyond the call that produced it (docs/lua-runtime.md, "lupa and object lifetimes").
local CONTEXTS = {}

local WEAK_VALUES = {__mode = "v"}
local NONE = setmetatable({}, {__newindex = function() error("read-only", 2) end})
local EMPTY_FUTURES = NONE  -- a context's futures until it has one (rt.remember_future)
-- What a context's tables become when its process ends (code still running in it may read
-- them; writing raises).
local ENDED = setmetatable({}, {__newindex = function() error("the process has ended", 2) end})

-- The live processes of this host that other processes of the host may send to without
-- entering Python: PID text -> context id (`process.send`, see rt.copy).
local LOCAL = {}
rt.LOCAL = LOCAL

-- FIFO queues: head and tail indices, reset whenever the queue empties so the integer keys
-- stay in the table's array part.
local function q_new() return {h = 1, t = 0} end
local function q_push(q, v)
  local t = q.t + 1
  q.t = t
  q[t] = v
end
local function q_pop(q)
  local h = q.h
  if h > q.t then return nil end
  local v = q[h]
  q[h] = nil
  if h == q.t then q.h, q.t = 1, 0 else q.h = h + 1 end
  return v
end
local function q_len(q) return q.t - q.h + 1 end
rt.q_new, rt.q_push, rt.q_pop, rt.q_len = q_new, q_push, q_pop, q_len

-- A new context; its number is what Python names it by. `pid` is the process's PID text;
-- `routable` puts it in LOCAL (workflow states do not: their messages must go through
-- Temporal); `plain`: the process has an empty context (security identity, values), so its
-- children may be spawned without Python (rt.spawn).
-- The context is also its own queue of ready resumptions (q_push/q_pop: fields h and t,
-- entries at 1, 2...), and its `cache` and `imports` are made on first use: a spawn makes
-- as few tables as it can. `entry`, `method` and `env` are what the process will run
-- (start_main); a process spawned in Lua passes `lua_only` and its `watcher` too. The
-- constructor lists every field a process spawned in Lua has, so the table is made with
-- room for them (growing it would rehash), and fills what it is given: a field filled here
-- costs less than one set later, which adds a key.
local context_seq = 0
local function new_context(pid, routable, plain, entry, method, env, lua_only, watcher)
  context_seq = context_seq + 1
  local ctx = {false, id = context_seq, alive = true, pid = pid, h = 1, t = 0,
               tasks = {main = nil},  -- sized for one task (its main) without a rehash
               queued = false, main = 0, plain = plain, futures = EMPTY_FUTURES,
               entry = entry, method = method, env = env, lua_only = lua_only,
               watcher = watcher, links = nil}
  CONTEXTS[context_seq] = ctx
  if routable then LOCAL[pid] = context_seq end
  return ctx
end
-- The number the next context will have (a workflow's first call checks it: its Python
-- side records the process under that number before Lua runs it, temporal_host/wf_env.lua).
function rt.next_context() return context_seq + 1 end
-- The per-process cache of modules (loaded module proxies, events' subscriptions).
local function cache_of(ctx)
  local cache = ctx.cache
  if not cache then
    if not ctx.alive then return ENDED end
    cache = {}
    ctx.cache = cache
  end
  return cache
end
rt.cache_of = cache_of

-- The Payload a finished future delivered, so `future:result()` returns that same object
-- (kept weakly: once nothing else holds it, nobody can compare it any more).
function rt.remember_future(id, call, payload)
  local ctx = CONTEXTS[id]
  if ctx == nil then return end
  if ctx.futures == EMPTY_FUTURES then ctx.futures = setmetatable({}, WEAK_VALUES) end
  ctx.futures[call] = payload
end

-- CPU budget: Lua cannot be pre-empted, so code that runs too long without yielding would
-- stall every other process of the host (or trip Temporal's deadlock detector in a
-- workflow). Past the budget, the step raises `Timeout`, which fails the process like any
-- uncaught error. Two ways to get there, the first when it is built:
-- * the watchdog (lua_bindings/_watchdog.c): `watch_step(co)` at each step's start and
--   `watch_step(nil)` once the batch ends (`rt.run`, below), `watch_runs(co)` when a
--   process switches to a coroutine of its own; a thread samples each step's CPU time
--   and arms a one-shot hook on a step over budget. No hook is set while things go well.
-- * a count hook on every coroutine, looking at the clock every HOOK_EVERY instructions;
--   a step's clock starts at the hook's first call in that step (at most HOOK_EVERY
--   instructions after it began), so that resuming a task costs no look at the clock.
--   Any count hook sends every instruction down the interpreter's slow path: a third of
--   a ping-pong.
local cpu_budget, counting, step, hooked_step, step_started = nil, false, 0, -1, 0
local watch_step, watch_runs, watch_restart = nil, nil, nil
local HOOK_EVERY = 1000000  -- instructions between looks at the clock
local function budget_error()
  return py.err_new(("ran for more than %gs without yielding"):format(cpu_budget),
                    "Timeout", false)
end
local function over_budget()
  if hooked_step ~= step then
    hooked_step, step_started = step, clock()
  elseif clock() - step_started > cpu_budget then
    error(budget_error(), 2)
  end
end
local function raise_over_budget() error(budget_error(), 2) end  -- the watchdog's hook
local function create(fn)
  local co = co_create(fn)
  if counting then dsethook(co, over_budget, "", HOOK_EVERY) end
  return co
end
local POOL, pooled = {}, 0  -- idle main-task coroutines (below, "main tasks")
-- `use_watchdog` false: the count hook even when the watchdog is built (tests of it).
function rt.set_cpu_budget(seconds, use_watchdog)
  cpu_budget = seconds
  if watchdog and use_watchdog ~= false then
    counting = false
    watch_step, watch_runs, watch_restart = watchdog.watch(seconds or 0, raise_over_budget)
    if not seconds then watch_step, watch_runs, watch_restart = nil, nil, nil end
  else
    counting = seconds ~= nil
    if watchdog then watchdog.watch(0, raise_over_budget) end
    watch_step, watch_runs, watch_restart = nil, nil, nil
  end
  POOL, pooled = {}, 0  -- pooled coroutines carry the old budget's hook (or none)
end

-- A module function that stopped its own work at the budget reports the overrun itself,
-- with an error that says more (an SQL statement SQLite interrupted, its transaction rolled
-- back): the running step goes on with a fresh budget, so that error is the one the process
-- fails with, not the budget error of a hook armed while the function ran (the watchdog
-- looks every tenth of the budget and may doom the step first). Code that keeps running
-- past the fresh budget is stopped as usual.
function rt.restart_budget()
  step = step + 1
  if watch_restart then watch_restart() end
end

-- co_resume for the resumes a process makes itself (its own coroutines): the watchdog
-- learns which coroutine runs, and is told again when the resume returns.
local function watched_back(outer, ...)
  watch_runs(outer)
  return ...
end
local function resume(co, ...)
  if watch_runs == nil or type(co) ~= "thread" then return co_resume(co, ...) end
  local outer = co_running()
  watch_runs(co)
  return watched_back(outer, co_resume(co, ...))
end

local function new_task(ctx, fn)
  next_task = next_task + 1
  ctx.tasks[next_task] = create(fn)
  return next_task
end
rt.new_task = new_task

local function end_task(ctx, id)
  if ctx.alive then ctx.tasks[id] = nil end
end

-- Main tasks. A process's main task runs in a coroutine of a pool: `trampoline` runs
-- `main_body` (defined with start_main), yields DONE with its results and, resumed by
-- the next process's start, runs that one. Making a coroutine and setting its hook is
-- about 0.85 µs of a 7 µs spawn. A coroutine goes back to the pool only when its process
-- returned normally and has ended (nothing of it can run any more: its context is
-- dropped), and never once app code held it (coroutine.running, EXPOSED): a handle kept
-- by the process could otherwise resume the next process's task. Its previous process
-- left nothing behind that Lua code can see: its frames have returned (the trampoline
-- tail-calls itself, so the stack is the trampoline's frame alone), the hook is the same.
local function DONE() end
local EXPOSED = setmetatable({}, {__mode = "k"})
local POOL_MAX = 256
local main_body
local function trampoline(...)
  return trampoline(co_yield(DONE, main_body(...)))
end
local reused = 0
local function main_coroutine()
  local n = pooled
  if n == 0 then return create(trampoline) end
  local co = POOL[n]
  POOL[n], pooled, reused = nil, n - 1, reused + 1
  return co
end
-- For tests: idle coroutines in the pool, and how many main tasks took one.
function rt.pool_stats() return pooled, reused end
local function give_back(co)
  if pooled < POOL_MAX and not EXPOSED[co] then
    pooled = pooled + 1
    POOL[pooled] = co
  end
end

-- The run queue: contexts with ready tasks, each with its own FIFO of resumptions. An
-- entry is a table {task = id, n = count, values...}; a Lua waiter is its own entry.
local RUNQ = q_new()
-- The first entry of a main task started in Lua without arguments: shared, read-only.
local START = setmetatable({n = 0}, {__newindex = function() error("read-only", 2) end})
local urgent = false  -- set by Python while it fires a timer that was set for later
function rt.set_urgent(on) urgent = on end

local function make_ready(ctx, entry)
  if not ctx.alive then return end
  local t = ctx.t + 1
  ctx.t, ctx[t] = t, entry
  if not ctx.queued then
    ctx.queued = true
    if urgent then
      -- woken by a timer set for later: first in line, not behind every busy process
      local h = RUNQ.h - 1
      RUNQ.h, RUNQ[h] = h, ctx
    else
      q_push(RUNQ, ctx)
    end
  end
end

-- Python makes task `task` of context `id` ready with values (a parked call's answer,
-- the arguments of a main task).
function rt.wake(id, task, ...)
  local ctx = CONTEXTS[id]
  if ctx == nil or ctx.tasks[task] == nil then return end
  make_ready(ctx, {task = task, n = select("#", ...), ...})
end

-- What Python reads when module code asks which process runs now: (context, task).
function rt.running() return rt.current and rt.current.id or 0, current_task end

-- Halting: a host whose Python side must act on what a task just asked before any other
-- task runs (a workflow issuing its commands in order, temporal_host/wf_env.lua) calls
-- `rt.halt()` from that task; the kernel stops after the task's resume, with the rest of
-- the run queue as it was, and `rt.run` returns. `rt.wake_first` then answers a task ahead
-- of everything ready, as if its call had returned in the same resume.
local halted = false
function rt.halt() halted = true end
function rt.wake_first(id, task, ...)
  local ctx = CONTEXTS[id]
  if ctx == nil or ctx.tasks[task] == nil or not ctx.alive then return end
  local h = ctx.h - 1
  ctx.h, ctx[h] = h, {task = task, n = select("#", ...), ...}
  if not ctx.queued then
    ctx.queued = true
    local qh = RUNQ.h - 1
    RUNQ.h, RUNQ[qh] = qh, ctx
  end
end

-- Channels Python creates (time.after, futures...) are kept strongly until the end of the
-- resume that made them: by then the Lua side holds them, or nobody ever will.
local NURSERY, nursery_used = {}, false

-- py.finished(id, returned, a, b): Python applies the exit of a process it has a record of,
-- and answers true when the kernel is to drop the context now (a call back into Lua from
-- inside this one would cost a crossing per exit). A workflow's state reports the exit
-- with the call that ran it instead (rt.report_exits_with, wf_env.lua).
local py_finished = py.finished
function rt.report_exits_with(fn) py_finished = fn end
local exit_in_lua  -- (ctx, value): a process without a Python record ends; below
local drop  -- (ctx): the process of `ctx` has ended; below
local batch_time = nil  -- the Time of this batch's EXITs made in Lua (one Python call)
-- The main task of `ctx` returned `v, e` (the return protocol): the process ends, in Lua
-- when it has no Python record and nothing needs Python's judgement, else in Python.
local function main_returned(ctx, co, v, e)
  local t = type(v)
  if e ~= nil or t == "table" or t == "function" or t == "thread" then
    v, e = rt.export_result(v, e)  -- a scalar result with no error is exported as it is
  end
  if not (ctx.lua_only and e == nil and exit_in_lua(ctx, v)) then
    if py_finished(ctx.id, true, v, e) then drop(ctx) end
  end
  if not ctx.alive then give_back(co) end
end
-- Resume the ready tasks of `ctx`; a main task that ends, or any task that fails, ends
-- the process (Python applies the exit). At most VISIT_STEPS resumptions per visit: the
-- tasks of one process can keep each other ready forever (two coroutines bouncing on a
-- channel), and the host must still get back to its other processes, its timers and the
-- event loop.
do  -- a block: the main chunk is near Lua's limit of 200 locals
local VISIT_STEPS = 32
-- The coroutine of the batch's last step, which the watchdog is told of at the step's start
-- and told is over once, when the batch ends (`rt.run`): the steps of a batch follow each
-- other with only the kernel's own code between them, counted to the step before. Held
-- until then, so the coroutine the watchdog may hook is never collected under it.
local stepped = nil
local function run_context(ctx)
  local steps = VISIT_STEPS
  while ctx.alive do
    local h = ctx.h  -- q_pop(ctx), inline: this loop is the kernel's hottest
    local last = ctx.t
    if h > last then return end
    if steps == 0 then  -- still ready: behind the others (make_ready may have queued it)
      if not ctx.queued then
        ctx.queued = true
        q_push(RUNQ, ctx)
      end
      return
    end
    steps = steps - 1
    local e = ctx[h]
    ctx[h] = nil
    if h == last then ctx.h, ctx.t = 1, 0 else ctx.h = h + 1 end
    local id = e.task or ctx.main  -- START: the first entry of a main task without arguments
    local tasks = ctx.tasks
    local co = tasks[id]
    if co ~= nil then
      rt.current, current_task = ctx, id
      step = step + 1
      if watch_step then watch_step(co); stepped = co end
      local ok, a, b, c
      if e.n == 3 then  -- a message, a reply: the common shapes skip the unpack call
        ok, a, b, c = co_resume(co, e[1], e[2], e[3])
      elseif e == START then
        ok, a, b, c = co_resume(co)
      else
        ok, a, b, c = co_resume(co, unpack(e, 1, e.n))
      end
      rt.current, current_task = nil, 0
      if nursery_used then NURSERY, nursery_used = {}, false end
      if ok and a == PARK then
        -- blocked (the common case): nothing to do
      elseif ok and a == DONE then
        tasks[id] = nil  -- the context is alive: its main task just returned
        main_returned(ctx, co, b, c)
      elseif not ok then
        end_task(ctx, id)
        if not is_kind(a, "error") then a = tostring(a) end
        if py_finished(ctx.id, false, a, traceback(co)) then drop(ctx) end
      elseif co_status(co) == "dead" then
        end_task(ctx, id)  -- a task other than the main one: the process goes on
      end
      if halted then
        -- What is left of this context's queue runs first when the kernel runs again.
        if ctx.alive and ctx.t >= ctx.h and not ctx.queued then
          ctx.queued = true
          local qh = RUNQ.h - 1
          RUNQ.h, RUNQ[qh] = qh, ctx
        end
        return
      end
    end
  end
end

-- Run ready contexts, at most `budget` of them; true when some are still ready.
local function run_contexts(budget)
  local q = RUNQ
  while budget > 0 do
    local h, last = q.h, q.t  -- q_pop(RUNQ), inline
    if h > last then return false end
    local ctx = q[h]
    q[h] = nil
    if h == last then q.h, q.t = 1, 0 else q.h = h + 1 end
    ctx.queued = false
    run_context(ctx)
    if halted then
      halted = false
      break
    end
    budget = budget - 1
  end
  return RUNQ.t >= RUNQ.h
end
function rt.run(budget)
  batch_time = nil
  local more = run_contexts(budget)
  if stepped ~= nil then
    stepped = nil
    if watch_step then watch_step(nil) end
  end
  return more
end
end
function rt.ready_count() return q_len(RUNQ) end
-- No process context left, nothing ready, no task running: the state is as good as new
-- (a workflow state may serve the next run of its entry, temporal_host/states.py).
function rt.quiet()
  return next(CONTEXTS) == nil and RUNQ.t < RUNQ.h and rt.current == nil
end

-- A process ended: forget all its tasks (their coroutines are garbage from now on).
-- The cache and imports a process never made stay absent (cache_of and import hand out
-- ENDED or nothing for an ended context): two new fields would make the context's table
-- grow (a rehash into twice the room) at every exit.
drop = function(ctx)
  local id, pid = ctx.id, ctx.pid
  CONTEXTS[id] = nil
  ctx.alive = false
  if pid ~= nil and LOCAL[pid] == id then LOCAL[pid] = nil end
  ctx.tasks, ctx.mb = ENDED, nil
  if ctx.cache then ctx.cache = ENDED end
  if ctx.imports then ctx.imports = ENDED end
end
function rt.drop_context(id)
  local ctx = CONTEXTS[id]
  if ctx ~= nil then drop(ctx) end
end

-- The wrapper every blocking API uses: `status` 0 means Python parked the current task.
local function await(status, ...)
  if status == 0 then return co_yield(PARK) end
  return ...
end
rt.await = await

-- A user coroutine that calls a blocking API yields PARK to the user's resume. These
-- replacements pass such yields outward to the scheduler and feed the answer back in, so
-- only the user's own yields reach the user.
local function forward(co, ok, first, ...)
  if ok and first == PARK and co_status(co) == "suspended" then
    return forward(co, resume(co, co_yield(PARK)))
  end
  return ok, first, ...
end

local user_coroutine = {}
for k, v in pairs(coroutine) do user_coroutine[k] = v end
do  -- its helpers' locals stay here: the main chunk is near Lua's 200 locals
  -- A process's own tasks (its main task, those of coroutine.spawn) are resumed by the
  -- kernel alone. A value they yielded would reach the kernel, which has nothing to resume
  -- them with, and the process would wait forever: so, as in a plain Lua program's main
  -- thread, yielding there is an error at the call, and isyieldable says so. And app code
  -- that got its task's handle (coroutine.running) must not resume it (the task would run
  -- its waits' answers out of turn, inside another task) nor close it under the kernel.
  local co_isyieldable, co_close = coroutine.isyieldable, coroutine.close
  local TASK = "task"  -- EXPOSED[co] of a task's coroutine
  local function in_own_task()
    local ctx = rt.current
    return ctx ~= nil and ctx.tasks[current_task] == co_running()
  end
  local function not_a_task(co, what)
    if EXPOSED[co] == TASK then
      error("cannot " .. what .. " a process's own task: the scheduler runs it", 3)
    end
  end
  user_coroutine.resume = function(co, ...)
    not_a_task(co, "resume")
    return forward(co, resume(co, ...))
  end
  user_coroutine.close = function(co)
    not_a_task(co, "close")
    return co_close(co)
  end
  user_coroutine.create = create
  -- A coroutine app code got hold of is never pooled (main tasks, above).
  user_coroutine.running = function()
    local co, main = co_running()
    EXPOSED[co] = in_own_task() and TASK or true
    return co, main
  end
  user_coroutine.yield = function(...)
    if in_own_task() then
      error("attempt to yield from outside a coroutine (a process's own code waits on "
        .. "channels, messages and timers; time.sleep(0) lets the others run)", 2)
    end
    return co_yield(...)
  end
  user_coroutine.isyieldable = function()
    return not in_own_task() and co_isyieldable()
  end
end
user_coroutine.wrap = function(fn)
  local co = create(fn)
  return function(...)
    local r = pack(forward(co, resume(co, ...)))
    if not r[1] then error(r[2], 0) end
    return unpack(r, 2, r.n)
  end
end
user_coroutine.spawn = function(fn)
  if type(fn) ~= "function" then error("coroutine.spawn expects a function", 2) end
  local ctx = rt.current
  make_ready(ctx, {task = new_task(ctx, fn), n = 0})
end

-----------------------------------------------------------------------------------------
-- Errors (lua-api §9)
-----------------------------------------------------------------------------------------

local E = {}
METHODS.error = E
function E.kind(e) return py.err_get(e, "kind") end
function E.message(e) return py.err_get(e, "message") end
function E.retryable(e) return py.err_get(e, "retryable") end
function E.details(e) return py.err_get(e, "details") end
function E.stack(e) return py.err_get(e, "stack") end

local errors = {}
for name, value in pairs(py.error_kinds) do errors[name] = value end
function errors.new(a, b)
  if type(a) == "table" then
    if a.message == nil then error("errors.new: message is required", 2) end
    return py.err_new(a.message, a.kind, a.retryable, a.details)
  end
  if type(a) == "string" and type(b) == "string" then return py.err_new(b, a) end
  if is_kind(a, "error") then return a end
  return py.err_new(tostring(a))
end
function errors.wrap(e, context)
  if e == nil then return nil end
  if not is_kind(e, "error") then e = py.err_new(tostring(e)) end
  return py.err_wrap(e, tostring(context))
end
function errors.is(x, kind)
  return is_kind(x, "error") and py.err_get(x, "kind") == kind
end
function errors.call_stack(e)
  if not is_kind(e, "error") then return nil end
  return py.err_call_stack(e)
end
rt.errors = errors

-- string functions accept errors where a subject string is expected (lua-api §9.2)
local string_lib = {}
for k, v in pairs(string) do string_lib[k] = v end
for _, name in ipairs({"find", "match", "gmatch", "gsub", "sub", "len", "upper", "lower",
                       "rep", "byte", "reverse", "format"}) do
  local f = string[name]
  string_lib[name] = function(s, ...)
    if type(s) == "userdata" then s = tostring(s) end
    return f(s, ...)
  end
end
local function cast(type_name, check)
  return function(_, v)
    local r = check(v)
    if r == nil then
      error(py.err_new("cannot cast " .. type(v) .. " to " .. type_name, "Invalid", false), 2)
    end
    return r
  end
end
setmetatable(string_lib, {__call = cast("string", function(v)
  if type(v) == "string" then return v end
end)})
-- strings index the real `string` table; app code gets the same functions through both
getmetatable("").__index = string_lib

-----------------------------------------------------------------------------------------
-- Channels (lua-api §5), Go-style, all in Lua. A blocked task is a *waiter* registered on
-- the channels it waits for; whoever completes the operation fires it (the task becomes
-- ready with `index, value, ok`). A process's inbox, events and `listen` topics are
-- channels too (unbounded, never sent to), so they mix with ordinary channels, timers and
-- futures in one `select`. Channels Python makes (time.after, futures, event
-- subscriptions) are the same tables; Python names them by number (rt.channel_*).
-----------------------------------------------------------------------------------------

local C = {}
local CH_MT = {__index = C, __name = "channel"}
rt.CH_MT = CH_MT
local remove, HUGE = table.remove, math.huge
local CLOSED_SEND = "send on closed channel"
local PROCESS_SEND = "cannot send to a process channel"
local NO_SENDERS = setmetatable({}, {__newindex = function() error(PROCESS_SEND, 2) end})
local py_ch_pull, py_ch_arm, py_ch_pending, py_ch_id =
  py.ch_pull, py.ch_arm, py.ch_pending, py.ch_id

-- What app code holds is an empty table; the channel's state lives in CHS, out of reach
-- (a process that could rewrite its inbox's queues would break its senders' sends).
local CHS = setmetatable({}, {__mode = "k"})  -- channel -> its state

-- `cap` 0 is unbuffered; a process channel (`proc`) buffers without bound. Returns the
-- state; `.ch` is the channel.
local function new_channel(cap, proc)
  local ch = setmetatable({}, CH_MT)
  local st = {ch = ch, cap = cap, closed = false, recv = {}, send = proc and NO_SENDERS or {}}
  if cap > 0 then st.buf = q_new() end
  if proc then st.proc = true end
  CHS[ch] = st
  return st
end

local function waiter()
  -- shaped as the run-queue entry it becomes when fired (n, index, value, ok); `done`
  -- (nil until then) is set when it fires
  return {task = current_task, ctx = rt.current, n = 3, false, false, false}
end
local function live(w) return not w.done and w.ctx.alive end
-- The waiter of a receive that parks: the channel's spare, or a new one. Once the waiter of
-- a channel's parked receive has fired and its task has run, nothing else refers to it
-- (the receive queue and the run queue have let go), so `C.receive` leaves it to the
-- channel for the next (`st.spare`): a request and its reply make no waiter. A waiter
-- whose task was woken otherwise is never reused. `C.send` does the same for a send that
-- parks (`st.spare_send`); a select makes its own.
local function receive_waiter(st)
  local w = st.spare
  if w == nil then return waiter() end
  st.spare, w.done, w.task, w.ctx = nil, nil, current_task, rt.current
  return w
end

-- A select's waiter is registered on several channels: withdraw it from all of them.
local function withdraw(w)
  for _, ch in next, w.sel do
    local r = ch.recv
    for k = #r - 1, 1, -2 do
      if r[k] == w then remove(r, k); remove(r, k) end
    end
    local s = ch.send
    if s ~= NO_SENDERS then
      for k = #s, 1, -1 do
        if s[k][1] == w then remove(s, k) end
      end
    end
  end
end

local function fire(w, index, value, ok)
  if w.done then return end
  w.done = true
  if w.sel then withdraw(w) end
  w[1], w[2], w[3] = index, value, ok
  make_ready(w.ctx, w)
end

-- The next live receiver (waiter, case index), taken off the queue; nil when none.
local function next_receiver(r)
  while true do
    local w, i = r[1], r[2]
    if w == nil then return nil end
    if r[3] == nil then
      r[1], r[2] = nil, nil  -- the usual single receiver
    else
      remove(r, 1); remove(r, 1)
    end
    if not w.done and w.ctx.alive then return w, i end
  end
end

-- true: handed over or buffered; false: it would have to wait; nil: the channel is closed.
local function send_now(ch, v)
  if ch.closed then return nil end
  local w, i = next_receiver(ch.recv)
  if w then
    fire(w, i, v, true)
    return true
  end
  local buf = ch.buf
  if buf and buf.t - buf.h + 1 < ch.cap then
    q_push(buf, v)
    return true
  end
  return false
end

local function refill(ch)
  local s, buf = ch.send, ch.buf
  while s[1] ~= nil and buf.t - buf.h + 1 < ch.cap do
    local e = remove(s, 1)
    if live(e[1]) then
      q_push(buf, e[3])
      fire(e[1], e[2], e[3], true)
    end
  end
end

-- true, value, ok when a receive completes now (ok false: closed); false otherwise.
local function receive_now(ch)
  local buf = ch.buf
  if buf and buf.h <= buf.t then
    local v = q_pop(buf)
    if ch.send[1] ~= nil then refill(ch) end
    return true, v, true
  end
  local s = ch.send
  while s[1] ~= nil do
    local e = remove(s, 1)
    if live(e[1]) then
      fire(e[1], e[2], e[3], true)
      return true, e[3], true
    end
  end
  if ch.pull then
    local got, v = py_ch_pull(ch.pull)
    if got then return true, v, true end
  end
  if ch.closed then return true, nil, false end
  return false
end

local function wait_receive(ch, w, index)
  local r = ch.recv
  r[#r + 1] = w
  r[#r + 1] = index
  if ch.pull then py_ch_arm(ch.pull) end
end

-- What a receive hands out: a `listen` channel without `message = true` gives only the
-- message's value.
local MSG_MT
local function take_for(ch, v)
  if ch.raw and getmetatable(v) == MSG_MT then return v[3] end
  return v
end

function C.send(self, v)
  local st = CHS[self]
  if st.proc then error(PROCESS_SEND, 2) end
  local sent = send_now(st, v)
  if sent == nil then error(CLOSED_SEND, 2) end
  if not sent then
    -- {waiter, case index, value}; the channel's spare once one has served (as a receive's
    -- waiter, receive_waiter): the receive that took the value removed it from `send`
    local e = st.spare_send
    if e == nil then
      e = {waiter(), 1, v}
    else
      local w = e[1]
      st.spare_send, w.done, w.task, w.ctx, e[3] = nil, nil, current_task, rt.current, v
    end
    local s = st.send
    s[#s + 1] = e
    local index, err = co_yield(PARK)
    if index < 0 then error(err, 2) end
    local w = e[1]
    if w.done then st.spare_send, e[3], w[2] = e, false, false end
  end
  return true
end
function C.receive(self)
  local st = CHS[self]
  local v, ok, w  -- w: the waiter of a receive that parks
  if st.proc and not st.pull then
    -- A process channel (inbox, events, a listener; not one fed from a Python queue, such
    -- as an event subscription's): buffered without bound and no sender ever waits on it,
    -- so receive_now and wait_receive come down to these lines: the receive of every
    -- request and reply.
    local buf = st.buf
    local h = buf.h
    if h <= buf.t then
      v = buf[h]
      buf[h] = nil
      if h == buf.t then buf.h, buf.t = 1, 0 else buf.h = h + 1 end
      return take_for(st, v), true
    end
    if st.closed then return nil, false end
    local r = st.recv
    local n = #r
    w = st.spare  -- receive_waiter(st), inline
    if w == nil then
      w = waiter()
    else
      st.spare, w.done, w.task, w.ctx = nil, nil, current_task, rt.current
    end
    r[n + 1], r[n + 2] = w, 1
  else
    local ready
    ready, v, ok = receive_now(st)
    if not ready then
      w = receive_waiter(st)
      wait_receive(st, w, 1)
    end
  end
  if w then
    local _
    _, v, ok = co_yield(PARK)
    if w.done then st.spare, w[2] = w, false end  -- see receive_waiter
  end
  if ok then return take_for(st, v), true end
  return nil, false
end
local function close(st)
  if st.closed then return end
  st.closed = true
  local r = st.recv
  st.recv = {}
  for k = 1, #r, 2 do fire(r[k], r[k + 1], nil, false) end
  local s = st.send
  if s ~= NO_SENDERS then
    st.send = {}
    for k = 1, #s do fire(s[k][1], -s[k][2], CLOSED_SEND, false) end
  end
end
function C.close(self) close(CHS[self]) end
function C.case_send(self, v) return {channel = self, send = true, value = v} end
function C.case_receive(self) return {channel = self, send = false} end
CH_MT.__len = function(ch)
  local st = CHS[ch]
  local n = st.buf and q_len(st.buf) or 0
  if st.pull then n = n + py_ch_pending(st.pull) end
  return n
end

local function is_channel(v)
  return type(v) == "table" and getmetatable(v) == CH_MT
end
rt.is_channel = is_channel

local channel = {}
function channel.new(size)
  size = size or 0
  if math.type(size) ~= "integer" or size < 0 then
    error("channel.new: size must be a non-negative integer", 2)
  end
  return new_channel(size).ch
end
function channel.select(cases)
  if type(cases) ~= "table" then error("channel.select expects a table of cases", 2) end
  local n = #cases
  for i = 1, n do
    local c = cases[i]
    if type(c) ~= "table" or not is_channel(c.channel) then
      error("channel.select: case " .. i .. " is not a select case", 2)
    end
  end
  -- The first case that can complete now, in the order given (deterministic).
  local states = {}
  for i = 1, n do
    local c = cases[i]
    local st = CHS[c.channel]
    states[i] = st
    if c.send == true then
      if st.proc then error(PROCESS_SEND, 2) end
      local sent = send_now(st, c.value)
      if sent == nil then error(CLOSED_SEND, 2) end
      if sent then return {channel = c.channel, value = c.value, ok = true} end
    else
      local ready, v, ok = receive_now(st)
      if ready then
        if ok then v = take_for(st, v) end
        return {channel = c.channel, value = v, ok = ok}
      end
    end
  end
  if cases.default == true then return {default = true, ok = true} end
  local w = waiter()
  w.sel = states
  for i = 1, n do
    local c, st = cases[i], states[i]
    if c.send == true then
      local s = st.send
      s[#s + 1] = {w, i, c.value}
    else
      wait_receive(st, w, i)
    end
  end
  local index, value, ok = co_yield(PARK)
  if index < 0 then error(value, 2) end
  local c = cases[index]
  if c.send == true then
    value = c.value
  elseif ok then
    value = take_for(states[index], value)
  else
    value = nil
  end
  return {channel = c.channel, value = value, ok = ok}
end
rt.channel = channel

-- Channels Python names by number: made by module code (time.after, futures, event
-- subscriptions), offered values by timers and calls. Weak: a channel nobody in Lua holds
-- any more cannot be received from, and an offer to it is dropped.
local CHANNELS = setmetatable({}, WEAK_VALUES)  -- number -> channel
local channel_seq = 0
-- `pull`: the channel reads from a Python queue (event subscriptions).
function rt.channel_new(cap, pull)
  channel_seq = channel_seq + 1
  local st = new_channel(pull and 0 or cap, pull)
  if pull then st.pull = channel_seq end
  CHANNELS[channel_seq], NURSERY[channel_seq], nursery_used = st.ch, st.ch, true
  return channel_seq
end
-- The channel Python made (its number, or Python's handle).
function rt.wrap_channel(x)
  if type(x) == "number" then return CHANNELS[x] end
  local ch = CHANNELS[py_ch_id(x)]
  if ch and CHS[ch].pull then CHS[ch].handle = x end  -- Python reads its queue through it
  return ch
end
-- A value from Python (a timer's Time, a call's outcome): true when taken now, false when
-- it would have to wait (it is dropped), nil when the channel is closed.
function rt.channel_offer(id, v)
  local ch = CHANNELS[id]
  if ch == nil then return false end
  return send_now(CHS[ch], v)
end
function rt.channel_clear(id)
  local ch = CHANNELS[id]
  if ch and CHS[ch].buf then CHS[ch].buf = q_new() end
end
function rt.channel_len(id)
  local ch = CHANNELS[id]
  return ch and #ch or 0
end
-- The Python queue of a pull channel got items while receivers wait.
function rt.channel_feed(id)
  local ch = CHANNELS[id]
  if ch == nil then return end
  local r = CHS[ch].recv
  while r[1] ~= nil do
    local w, i = r[1], r[2]
    if live(w) then
      local got, v = py_ch_pull(id)
      if not got then break end
      remove(r, 1); remove(r, 1)
      fire(w, i, v, true)
    else
      remove(r, 1); remove(r, 1)
    end
  end
  if r[1] ~= nil then py_ch_arm(id) end
end

-----------------------------------------------------------------------------------------
-- Mailboxes (lua-api §4.3). Routing is decided when a message is delivered: the channel of
-- an exact `listen(topic)` first, then the earliest matching pattern, then the inbox. A
-- message that arrives before the process opened its inbox or a matching listener is kept
-- in order and routed when one appears; events likewise wait for `events()`. Made on first
-- use: an idle process that never receives has none, and one that only reads its inbox
-- has no table of listeners (`listeners` and `patterns` come with the first `listen`):
-- two tables and a larger mailbox table fewer per process.
-----------------------------------------------------------------------------------------

local s_find, s_gsub = string.find, string.gsub

local function mailbox(ctx)
  local mb = ctx.mb
  if mb == nil then
    mb = {}
    ctx.mb = mb
  end
  return mb
end

-- The listeners and patterns of `mb`, made on first use (by `listen`).
local function listeners_of(mb)
  local listeners = mb.listeners
  if listeners == nil then
    listeners = {}
    mb.listeners, mb.patterns = listeners, {}
  end
  return listeners, mb.patterns
end

local function route(mb, topic)
  local listeners = mb.listeners
  if listeners ~= nil then
    local ch = listeners[topic]
    if ch ~= nil then return ch end
    local patterns = mb.patterns
    for i = 1, #patterns do
      local p = patterns[i]
      if s_find(topic, p[1]) then return p[2] end
    end
  end
  return mb.inbox
end

local function deliver(ctx, msg)
  local mb = ctx.mb or mailbox(ctx)
  local ch = route(mb, msg[1])
  if ch ~= nil then
    send_now(ch, msg)
    return
  end
  local pending = mb.pending
  if pending == nil then
    pending = q_new()
    mb.pending = pending
  end
  q_push(pending, msg)
end

local function deliver_event(ctx, ev)
  local mb = ctx.mb or mailbox(ctx)
  if mb.events ~= nil then
    send_now(mb.events, ev)
    return
  end
  local pending = mb.pending_events
  if pending == nil then
    pending = q_new()
    mb.pending_events = pending
  end
  q_push(pending, ev)
end

local function drain_into(q, ch)
  if q == nil then return end
  while q.h <= q.t do q_push(ch.buf, q_pop(q)) end
end

-- The running process's inbox, events and listeners (process.lua): one channel each.
-- The inbox and the events channel open on first use with what was queued for them before.
local function own_channel(name, pending_name)
  local mb = mailbox(rt.current)
  local st = mb[name]
  if st == nil then
    st = new_channel(HUGE, true)
    drain_into(mb[pending_name], st)
    mb[name], mb[pending_name] = st, nil
  end
  return st.ch
end
function rt.inbox() return own_channel("inbox", "pending") end
function rt.events() return own_channel("events", "pending_events") end
-- `topic` is checked by the caller; `*` is a wildcard. The same topic gives the same
-- channel; the first call decides whether it hands out messages or values (`raw`).
function rt.listen(topic, raw)
  local mb = mailbox(rt.current)
  local listeners, patterns = listeners_of(mb)
  local st = listeners[topic]
  if st ~= nil then return st.ch end
  for _, p in ipairs(patterns) do
    if p[3] == topic then return p[2].ch end
  end
  st = new_channel(HUGE, true)
  st.raw, st.topic = raw, topic
  if s_find(topic, "*", 1, true) then
    local pattern = "^" .. s_gsub(s_gsub(topic, "[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"), "%*", ".*")
      .. "$"
    patterns[#patterns + 1] = {pattern, st, topic}
  else
    listeners[topic] = st
  end
  -- claim the waiting messages that route here now
  local pending = mb.pending
  if pending ~= nil and pending.h <= pending.t then
    local keep = q_new()
    while pending.h <= pending.t do
      local msg = q_pop(pending)
      if route(mb, msg[1]) == st then q_push(st.buf, msg) else q_push(keep, msg) end
    end
    mb.pending = keep.h <= keep.t and keep or nil
  end
  return st.ch
end
-- Later messages on that topic go to the inbox; what the channel holds stays there.
function rt.unlisten(ch)
  local mb = rt.current.mb
  local st = is_channel(ch) and CHS[ch]
  if mb == nil or not st or not st.topic or mb.listeners == nil then return end
  if mb.listeners[st.topic] == st then mb.listeners[st.topic] = nil end
  local patterns = mb.patterns
  for i = #patterns, 1, -1 do
    if patterns[i][2] == st then remove(patterns, i) end
  end
end

-- Counts for Python (a workflow warns when its mailbox grows).
function rt.pending_messages(id)
  local ctx = CONTEXTS[id]
  local mb = ctx and ctx.mb
  if mb == nil then return 0 end
  local n = mb.pending and q_len(mb.pending) or 0
  for _, ch in next, mb.listeners or NONE do n = n + q_len(ch.buf) end
  for _, p in ipairs(mb.patterns or NONE) do n = n + q_len(p[2].buf) end
  if mb.inbox then n = n + q_len(mb.inbox.buf) end
  return n
end
function rt.pending_events(id)
  local ctx = CONTEXTS[id]
  local mb = ctx and ctx.mb
  if mb == nil then return 0 end
  return (mb.pending_events and q_len(mb.pending_events) or 0)
    + (mb.events and q_len(mb.events.buf) or 0)
end

-----------------------------------------------------------------------------------------
-- Messages and payloads (lua-api §4.3, §10): Lua tables, built without Python calls.
-----------------------------------------------------------------------------------------

local P = {}
local PAYLOAD_MT = {__index = P, __name = "payload"}
PAYLOAD_MT.__tostring = function(p) return "payload(" .. p.format .. ")" end
rt.PAYLOAD_MT = PAYLOAD_MT
local function new_payload(value, format)
  return setmetatable({value = value, format = format or "lua/any"}, PAYLOAD_MT)
end
rt.payload = new_payload
function P.get_format(p) return p.format end
function P.data(p)
  if p.format == "lua/any" or p.format == "golang/any" or p.format == "golang/error" then
    return p.value
  end
  return py.payload_decode(p.value, p.format)
end
P.unmarshal = P.data
function P.transcode(p, format)
  local value, err = py.payload_transcode(P.data(p), format)
  if err then return nil, err end
  return new_payload(value, format)
end

local M = {}
MSG_MT = {__index = M, __name = "message"}
function rt.message(topic, from, value)
  return setmetatable({topic, from, value}, MSG_MT)
end
-- A lifecycle event (lua-api §4.4) as the plain table `events()` hands out: EXIT and
-- LINK_DOWN carry `result`, CANCEL its `reason`.
function rt.event(kind, from, at, reason, has_result, value, err)
  if has_result then
    return {kind = kind, from = from, at = at, result = {value = value, error = err}}
  end
  return {kind = kind, from = from, at = at, reason = reason}
end

function M.topic(m) return m[1] end
M["from"] = function(m) return m[2] end
function M.payload(m) return new_payload(m[3]) end

-- What may leave a process: plain data, errors and other runtime values. Payloads travel
-- as their data; channels, messages, functions and coroutines are refused (lua-api §4.1).
local function cannot(kind)
  error(py.err_new("value of type " .. kind .. " cannot be sent to another process",
                   "Invalid", false), 0)
end
local export
-- Modules register the metatables of their own table types that must not cross
-- (futures, executors...): metatable -> type name for the error.
local UNSENDABLE = {}
rt.UNSENDABLE = UNSENDABLE
-- As convert.MAX_DEPTH: deeper values are refused here, before Lua's own stack gives out.
local MAX_DEPTH = 128
-- The refusals of a table on its way to another process, for `export` and `copy` alike:
-- what it is (a channel, a message, a runtime object), a cycle, and depth.
local function refuse_table(t, mt, seen, depth)
  if mt == CH_MT then cannot("channel") end
  if mt == MSG_MT then cannot("message") end
  if mt ~= nil and UNSENDABLE[mt] then cannot(UNSENDABLE[mt]) end
  if seen[t] then
    error(py.err_new("value cannot be sent to another process: it contains a cycle",
                     "Invalid", false), 0)
  end
  if depth > MAX_DEPTH then
    error(py.err_new("value cannot be sent to another process: it is nested deeper than "
                     .. MAX_DEPTH, "Invalid", false), 0)
  end
end
local function export_table(t, seen, depth)
  local mt = getmetatable(t)
  if mt == PAYLOAD_MT then return export(P.data(t), seen, depth) end
  refuse_table(t, mt, seen, depth)
  seen[t] = true
  local copy
  for k, v in next, t do
    local tv = type(v)
    if tv == "table" or tv == "function" or tv == "thread" then
      local nv = export(v, seen, depth + 1)
      if not rawequal(nv, v) then
        if not copy then copy = {}; for k2, v2 in next, t do copy[k2] = v2 end end
        copy[k] = nv
      end
    end
    local tk = type(k)
    if tk == "table" or tk == "function" or tk == "thread" or tk == "userdata" then
      cannot(tk .. " key")
    end
  end
  seen[t] = nil
  return copy or t
end
export = function(v, seen, depth)
  local t = type(v)
  if t == "table" then return export_table(v, seen or {}, depth or 1) end
  if t == "function" or t == "thread" then cannot(t) end
  return v
end
rt.export = export

-- A private copy of `v` for another process of this host: the checks of `export` plus the
-- copy that Python's from_lua/to_lua would make, without leaving Lua. Runtime objects
-- (userdata) that are sendable are immutable and shared, as from_lua shares them; anything
-- else only Python can judge, so it raises FOREIGN and the caller takes the Python path.
local FOREIGN = setmetatable({}, {__name = "foreign"})
rt.FOREIGN = FOREIGN
local SENDABLE_KIND = {}
local function copy_userdata(v)
  local kind = kind_of(v)
  if kind then
    local ok = SENDABLE_KIND[kind]
    if ok == nil then
      ok = py.sendable_kind(kind)
      SENDABLE_KIND[kind] = ok
    end
    if ok then return v end
  end
  error(FOREIGN, 0)
end
local copy_value
local function copy_table(t, seen, depth)
  local mt = getmetatable(t)
  if mt == PAYLOAD_MT then return copy_value(P.data(t), seen, depth) end
  refuse_table(t, mt, seen, depth)
  seen[t] = true
  local c = {}
  for k, v in next, t do
    local tk = type(k)
    if tk == "table" or tk == "function" or tk == "thread" or tk == "userdata" then
      cannot(tk .. " key")
    end
    local tv = type(v)
    if tv == "table" then
      v = copy_table(v, seen, depth + 1)
    elseif tv == "userdata" then
      v = copy_userdata(v)
    elseif tv == "function" or tv == "thread" then
      cannot(tv)
    end
    c[k] = v
  end
  seen[t] = nil
  return c
end
copy_value = function(v, seen, depth)
  local t = type(v)
  if t == "table" then return copy_table(v, seen, depth) end
  if t == "userdata" then return copy_userdata(v) end
  if t == "function" or t == "thread" then cannot(t) end
  return v
end
local SEEN = {}
function rt.copy(v)
  local t = type(v)
  if t ~= "table" and t ~= "userdata" then
    if t == "function" or t == "thread" then cannot(t) end
    return v  -- strings, numbers, booleans, nil: immutable, shared as they are
  end
  -- The `seen` table is reused: a copy that succeeds leaves it empty; one that raises
  -- leaves it behind (SEEN is nil until the next success).
  local seen = SEEN or {}
  SEEN = nil
  local c = copy_value(v, seen, 1)
  SEEN = seen
  return c
end

-- Deliveries. `send_local`: a message from the running process to process `id` of this
-- host, its value already copied (rt.copy); no Python. `deliver` and `deliver_event`:
-- what Python delivers (from other hosts and nodes, lifecycle events).
--
-- `send_local` does the usual case itself: the receiver has no listeners and waits on its
-- inbox, alone, outside a select. That is what `deliver` would do through route, send_now,
-- next_receiver, fire and make_ready, step for step, without the six calls: the hot path
-- of every request and reply between two processes. Anything else goes to `deliver`.
function rt.send_local(id, topic, value)
  local ctx = CONTEXTS[id]
  local msg = setmetatable({topic, rt.current.pid, value}, MSG_MT)
  local mb = ctx.mb
  local inbox = mb and mb.listeners == nil and mb.inbox
  if inbox and not urgent then
    local r = inbox.recv
    local w = r[1]
    if w ~= nil and r[3] == nil and not w.done and w.sel == nil and w.ctx == ctx then
      w.done, w[1], w[2], w[3] = true, r[2], msg, true
      r[1], r[2] = nil, nil
      local t = ctx.t + 1
      ctx.t, ctx[t] = t, w
      if not ctx.queued then
        ctx.queued = true
        local q = RUNQ
        t = q.t + 1
        q.t, q[t] = t, ctx
      end
      return true
    end
  end
  deliver(ctx, msg)
  return true
end
function rt.deliver(id, topic, from, value)
  local ctx = CONTEXTS[id]
  if ctx ~= nil then deliver(ctx, setmetatable({topic, from, value}, MSG_MT)) end
end
function rt.deliver_event(id, kind, from, at, reason, has_result, value, err)
  local ctx = CONTEXTS[id]
  if ctx ~= nil then
    deliver_event(ctx, rt.event(kind, from, at, reason, has_result, value, err))
  end
end

-----------------------------------------------------------------------------------------
-- The app-code environment (lua-api §3.2, §17.5)
-----------------------------------------------------------------------------------------

local GLOBALS = {
  "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawset",
  "select", "setmetatable", "getmetatable", "tonumber", "tostring", "type", "xpcall",
  "_VERSION",
}

-- Library tables are shared by every process of the host, so each environment sees them
-- through a proxy: reads fall through, writes stay in the process's own proxy. Nothing a
-- process can reach from there may change what another process sees: a table nested in a
-- shared one (`process.event`), and the metatable of a string or a runtime object, come
-- out as read-only views (issue 12, "isolation is a security property").
local FROZEN = setmetatable({}, {__mode = "k"})  -- view -> true
local VIEWS = setmetatable({}, {__mode = "k"})   -- shared table -> its view
local function read_only()
  error("this table is shared by every process and is read-only", 2)
end
local readonly
local function viewed(v)
  if type(v) == "table" then return readonly(v) end
  return v
end
readonly = function(t)
  if FROZEN[t] then return t end
  local view = VIEWS[t]
  if view == nil then
    view = setmetatable({}, {
      __index = function(_, k) return viewed(t[k]) end,
      __newindex = read_only,
      __len = function() return #t end,
      __pairs = function()
        return function(_, k)
          local nk, nv = next(t, k)
          return nk, viewed(nv)
        end, t, nil
      end,
      __metatable = false,
    })
    VIEWS[t], FROZEN[view] = view, true
  end
  return view
end
rt.readonly = readonly

-- One metatable per shared table, shared by all its proxies.
local PROXY_MT = setmetatable({}, {__mode = "k"})
local function proxy_mt(t)
  local mt = PROXY_MT[t]
  if mt == nil then
    local nested = false
    for _, v in next, t do
      if type(v) == "table" then nested = true; break end
    end
    local index = t
    if nested then
      -- a table of what has been read (shared tables do not change once loaded), so a
      -- read is a table lookup, not a function call
      index = setmetatable({}, {__index = function(seen, k)
        local v = viewed(t[k])
        if v ~= nil then rawset(seen, k, v) end
        return v
      end})
    end
    mt = {__index = index}
    PROXY_MT[t] = mt
  end
  return mt
end
local function proxy(t, mt)
  return setmetatable({}, mt or proxy_mt(t))
end

-- `getmetatable` and `rawset` as app code sees them. A metatable the process set itself
-- (through its own `setmetatable`) comes back as is; any other (strings, channels,
-- messages, library proxies...) belongs to the runtime and comes back read-only.
local APP_MT = setmetatable({}, {__mode = "k"})
local app_setmetatable  -- below, with the lazy environment
local app_getmetatable = function(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and not APP_MT[mt] then return readonly(mt) end
  return mt
end
local app_rawset = function(t, k, v)
  if FROZEN[t] then read_only() end
  return rawset(t, k, v)
end
local os_lib = {time = os.time, date = os.date, clock = os.clock, difftime = os.difftime}
local table_lib = setmetatable({create = function() return {} end}, {__index = table})
local STRING_PROXY = {__index = string_lib, __call = getmetatable(string_lib).__call}
local cast_integer = cast("integer", math.tointeger)
local cast_number = cast("number", function(v) if type(v) == "number" then return v end end)
local cast_boolean = cast("boolean", function(v) if type(v) == "boolean" then return v end end)
local CASTS = {
  integer = {__call = cast_integer},
  number = {__call = cast_number},
  boolean = {__call = cast_boolean},
}
rt.os_lib = os_lib

-- Runtime modules: built once per host (Python `ModuleCatalog`), handed to processes
-- through proxies like the standard libraries.
local MODULES = {errors = errors, channel = channel}
local function module(name)
  local m = MODULES[name]
  if m == nil then
    m = py.load_module(name)
    MODULES[name] = m
  end
  return m
end
rt.module = module
local ALWAYS = {errors = true, process = true, channel = true, payload = true}

-- `spec` describes an entry: {modules = {name = true}, imports = {alias = entry id}}.
local make_env
local function import(ctx, id)
  local imports = ctx.imports
  if not imports then
    if ctx.alive then
      imports = {}
      ctx.imports = imports
    else
      imports = ENDED  -- an ended process imports nothing any more (the write raises)
    end
  end
  local v = imports[id]
  if v == nil then
    local bytecode, chunkname, spec = py.import_code(id)
    local env = make_env(ctx, spec)
    v = load(bytecode, chunkname, "b", env)()
    imports[id] = v
  end
  return v
end

-- A process's globals are built lazily: the environment starts with `_G` and `require`,
-- and a library proxy (or a shared global function) is put in it the first time the
-- process reads that name. Most processes touch a few names; an idle one costs little.
local LAZY = {
  string = function() return proxy(string_lib, STRING_PROXY) end,
  table = function() return proxy(table_lib) end,
  math = function() return proxy(math) end,
  coroutine = function() return proxy(user_coroutine) end,
  os = function() return proxy(rt.os_lib) end,
  errors = function() return proxy(errors) end,
  channel = function() return proxy(channel) end,
  process = function() return proxy(module("process")) end,
  payload = function() return proxy(module("payload")) end,
  integer = function() return setmetatable({}, CASTS.integer) end,
  number = function() return setmetatable({}, CASTS.number) end,
  boolean = function() return setmetatable({}, CASTS.boolean) end,
}
local BASE  -- name -> shared global function; built on first use, after hosts such as the
            -- workflow one have replaced what they replace in _G (pairs, next)
local function base()
  if BASE == nil then
    BASE = {}
    for _, name in ipairs(GLOBALS) do BASE[name] = _G[name] end
    BASE.setmetatable, BASE.getmetatable, BASE.rawset =
      app_setmetatable, app_getmetatable, app_rawset
    BASE.print, BASE.subscribe, BASE.unsubscribe = rt.print, rt.subscribe, rt.unsubscribe
  end
  return BASE
end
local lazy_require  -- (env): `require` of a process's main environment; below
local function settle(env, k, v)
  if v ~= nil then rawset(env, k, v) end
  return v
end
-- A name read for the first time is made and kept in the environment. The maker is called
-- into a fresh local, the lowest free register: a process's first read of `process` runs
-- this, a maker, `proxy` and `setmetatable` (a C function, which wants 20 free slots), and
-- one register more here made every idle process's coroutine stack grow from 40 to 80
-- slots, 640 bytes each (tests/test_kernel.py, docs/performance.md "third pass").
local ENV_MT = {__index = function(env, k)
  local make = LAZY[k]
  if make then
    local v = make()
    return settle(env, k, v)
  elseif k == "require" then
    return settle(env, k, lazy_require(env))
  end
  return settle(env, k, base()[k])
end}
-- Before app code replaces its environment's metatable (a "strict globals" helper), every
-- lazy name is put in place: nothing may vanish because the lookup hook went away.
local function materialize(env)
  local _ = env.require
  for k in pairs(LAZY) do _ = env[k] end
  for k in pairs(base()) do local _ = env[k] end
end
app_setmetatable = function(t, mt)
  if getmetatable(t) == ENV_MT then materialize(t) end
  if type(mt) == "table" and not FROZEN[mt] then APP_MT[mt] = true end
  return setmetatable(t, mt)
end

-- `require` for code running in `env` of process `ctx` under `spec`.
local function make_require(ctx, spec, env)
  return function(name)
    local alias = spec.imports[name]
    if alias ~= nil then return import(ctx, alias) end
    if ALWAYS[name] then return env[name] end
    local listed = spec.modules[name]
    if type(listed) == "string" then error(py.err_new(listed, "Invalid", false), 2) end
    if not listed then
      error(py.err_new('module "' .. tostring(name) .. '" is not allowed (not in modules list)',
                       "Invalid", false), 2)
    end
    local key = "module:" .. name
    local cache = cache_of(ctx)
    local m = cache[key]
    if m == nil then
      local shared = module(name)
      if shared == false then
        error(py.err_new('module "' .. tostring(name) .. '" not found', "NotFound", false), 2)
      end
      m = proxy(shared)  -- shared by the host's processes: writes stay in this process
      cache[key] = m
    end
    return m
  end
end
-- The environment of an imported library (import): its own spec, its importer's context.
make_env = function(ctx, spec)
  local env = setmetatable({require = false, _G = false}, ENV_MT)  -- sized for both
  env.require = make_require(ctx, spec, env)
  env._G = env
  return env
end
-- A process's main environment (`ctx.env`) gets its `require` on first use (a closure and
-- three upvalues are four allocations a spawn saves), from the process that owns it: the
-- running one must be its owner (code of an ended process, such as a finalizer, that runs
-- while another process does, gets no `require` bound to the wrong process).
local function main_env()
  local env = setmetatable({require = nil, _G = false}, ENV_MT)  -- sized for both
  env._G = env
  return env
end
lazy_require = function(env)
  local ctx = rt.current
  if ctx == nil or ctx.env ~= env then return nil end
  return make_require(ctx, ctx.entry.spec, env)
end
-- Globals implemented by runtime modules (lua-api §3.2): `print` by logger, `subscribe` and
-- `unsubscribe` by events. The module is loaded on first use and sets rt.<name>_impl.
local function module_global(module_name, impl)
  return function(...)
    local f = rt[impl]
    if f == nil then
      module(module_name)
      f = rt[impl]
    end
    return f(...)
  end
end
rt.print = module_global("logger", "print_impl")
rt.subscribe = module_global("events", "subscribe_impl")
rt.unsubscribe = module_global("events", "unsubscribe_impl")

-- A process's main task: instantiate the entry's code in a fresh environment, find the
-- entry point, call it with the arguments.
--
-- Each entry is compiled once per source version into a factory: its source wrapped as
-- `function(_ENV) return function(...) <source> end end`, so instantiating it for a
-- process is making two closures, not loading bytecode. Python sends the source and spec
-- the first time an entry (or a new version of it) starts; later only the entry id.
local ENTRIES = {}  -- entry id -> {factory = f, spec = spec}
function rt.compile_entry(source, chunkname)
  local outer, err = load("return function(_ENV) return function(...) " .. source ..
                          "\nend end", chunkname, "t", {})
  if not outer then return false, err end
  return string.dump(outer), false
end
local os_time = os.time
function rt.define_entry(entry_id, code, chunkname, spec, method)
  ENTRIES[entry_id] = {id = entry_id, factory = load(code, chunkname, "b", {})(), spec = spec,
                       method = method, checked = os_time()}
end
-- Python looked at the entry's source again and it has not changed.
function rt.entry_checked(entry_id)
  local entry = ENTRIES[entry_id]
  if entry then entry.checked = os_time() end
end
-- The main task of `ctx`, which runs `ctx.entry` (the entry's definition: a new version of
-- the entry replaces the table, never changes it).
local function start_main(ctx)
  next_task = next_task + 1
  ctx.tasks[next_task] = main_coroutine()
  ctx.main = next_task
  return next_task
end
-- What a main task runs (in `trampoline`): the entry's code, then its entry point. Its
-- results are checked by the kernel when it returns (main_returned).
main_body = function(...)
  local ctx = rt.current
  local method = ctx.method
  local mod = ctx.entry.factory(ctx.env)()
  local fn = mod
  if type(mod) == "table" then fn = mod[method] end
  if type(fn) ~= "function" then
    error(py.err_new("method not found: " .. tostring(method), "NotFound", false), 0)
  end
  return fn(...)
end
-- A process Python spawns: its context (see new_context) with `entry_id` instantiated in
-- it, and with `start` its main task made ready with the arguments `...`, in one call into
-- Lua. Returns the context's number and the main task's id.
function rt.new_process(pid, routable, plain, entry_id, method, start, ...)
  local ctx = new_context(pid, routable, plain, ENTRIES[entry_id], method, main_env())
  local ok, main = pcall(start_main, ctx)
  if not ok then  -- out of memory: no context may stay behind that Python does not know
    drop(ctx)
    error(main, 0)
  end
  if start then
    local n = select("#", ...)
    make_ready(ctx, n == 0 and START or {task = main, n = n, ...})
  end
  return ctx.id, main
end

-----------------------------------------------------------------------------------------
-- Spawning and exits inside Lua (lua-api §4.1, §4.5). A process of a cached entry spawned
-- on this host by a process of this host, with a monitor or a link to its parent, is made
-- here without Python: a PID, a context, its main task, its args copied. It has no Python
-- record until Python needs one (an operation from another host, a name, a failure): then
-- Python *adopts* it (rt.adopt). Monitors and links made here are kept here, on both
-- sides, whatever becomes of the records; when a process without a record ends normally,
-- its monitors get EXIT and its links are released here too. Everything else (failures,
-- cascades, processes Python knows) goes through the exit rule in Python
-- (actors/exits.py), which reads these relations with rt.take_relations.
-----------------------------------------------------------------------------------------

local HOST = {}  -- name, pid prefix, incarnation, whether spawning in Lua is on
local pid_counter = 0
-- As actors.pid.local_id: the counter as 0x00001 (5, 6, 8 then 16 hex digits) + incarnation.
local function local_id(n)
  local text
  if n < 0x100000 then text = ("0x%05x"):format(n)
  elseif n < 0x1000000 then text = ("0x%06x"):format(n)
  elseif n < 0x100000000 then text = ("0x%08x"):format(n)
  else text = ("0x%016x"):format(n) end
  if HOST.incarnation ~= "" then text = text .. "." .. HOST.incarnation end
  return text
end
-- The next process number of this host, for Python's spawns and ours alike.
function rt.next_counter()
  pid_counter = pid_counter + 1
  return pid_counter
end
local pid_text  -- (n): the PID text of this host's process number `n`
do  -- a block: the main chunk is near Lua's limit of 200 locals
  -- The text of counters below 0x100000 is put together from what comes before the
  -- counter's five hex digits, the digits and what comes after: one concatenation, where
  -- string.format's C formatting was 3 % of a spawn cycle's machine instructions.
  local pid_head, pid_tail = "{|0x", "}"
  local HEX = {[0] = "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
               "a", "b", "c", "d", "e", "f"}  -- the hex digit of 0..15
  -- `prefix` is "{node@host|" or "{host|"; `fast`: spawning in Lua is allowed (no process
  -- limit, not shutting down).
  function rt.configure_host(name, prefix, incarnation, fast, exit_kind)
    HOST.name, HOST.prefix, HOST.incarnation, HOST.fast = name, prefix, incarnation, fast
    HOST.exit_kind = exit_kind
    pid_head = prefix .. "0x"
    pid_tail = (incarnation ~= "" and "." .. incarnation or "") .. "}"
  end
  pid_text = function(n)
    if n < 0x100000 then
      return pid_head .. HEX[n >> 16] .. HEX[(n >> 12) & 15] .. HEX[(n >> 8) & 15]
             .. HEX[(n >> 4) & 15] .. HEX[n & 15] .. pid_tail
    end
    return HOST.prefix .. local_id(n) .. "}"
  end
end
local lua_only = 0  -- live processes without a Python record
function rt.set_fast_spawn(on) HOST.fast = on end

local function relation(ctx, kind)
  local set = ctx[kind]
  if set == nil then
    set = {}
    ctx[kind] = set
  end
  return set
end
local function context_of(pid)
  local id = LOCAL[pid]
  return id and CONTEXTS[id]
end

-- spawn `entry_id` with the arguments `...` (copied here); `monitor`, `link` tie it to the
-- running process. Returns the PID text, or nil when only Python can do it.
local function spawn(entry_id, host, monitor, link, ...)
  local parent = rt.current
  local entry = ENTRIES[entry_id]
  if not HOST.fast or host ~= HOST.name or entry == nil or not parent.plain
      or os_time() - entry.checked > 1 then
    return nil
  end
  local n, args = select("#", ...), START  -- the main task's first run-queue entry
  if n > 0 then
    args = {task = false, n = n, ...}
    local copy = rt.copy
    for i = 1, n do args[i] = copy(args[i]) end
  end
  pid_counter = pid_counter + 1
  local pid = pid_text(pid_counter)
  local ppid = parent.pid
  local ctx = new_context(pid, true, true, entry, entry.method, main_env(), true,
                          monitor and ppid or nil)
  lua_only = lua_only + 1
  if link then
    ctx.links = {[ppid] = true}
    relation(parent, "links")[pid] = true
  end
  if monitor then relation(parent, "watching")[pid] = true end
  local main = start_main(ctx)
  if args ~= START then args.task = main end
  make_ready(ctx, args)
  return pid
end
-- As `spawn`, run with the calling coroutine's count hook (if any) off: under the hook every
-- instruction takes the interpreter's slow path (1.3-2.3x), and this work is the kernel's
-- own, of bounded length (a copy of values the caller built under the budget). pcall: the
-- hook is back on whatever happens, so no app code ever runs without it (spawn runs none:
-- the copy reads tables raw). nil also when an argument cannot cross (the caller takes
-- the Python path, which reports it).
function rt.spawn(entry_id, host, monitor, link, ...)
  if not counting or rt.current == nil then
    local ok, pid = pcall(spawn, entry_id, host, monitor, link, ...)
    return ok and pid or nil
  end
  dsethook()
  local ok, pid = pcall(spawn, entry_id, host, monitor, link, ...)
  dsethook(over_budget, "", HOOK_EVERY)
  return ok and pid or nil
end

-- A call from outside the host's processes (a Temporal activity of a `function.lua` entry):
-- the process of `entry_id` made as `spawn` makes one, without a Python record and without a
-- parent, its main task ready with the arguments `...` (Lua values Python made). When it
-- returns without an error, exit_in_lua hands its PID number and value to py.call_returned;
-- anything else
-- goes through the exit rule in Python, which adopts the process. The PID text and its
-- number, or nil when only Python can spawn here (a process limit, shutting down).
function rt.call(entry_id, method, ...)
  if not HOST.fast then return nil end
  pid_counter = pid_counter + 1
  local pid = pid_text(pid_counter)
  local ctx = CONTEXTS[rt.new_process(pid, true, true, entry_id, method, true, ...)]
  ctx.lua_only, ctx.caller = true, pid_counter
  lua_only = lua_only + 1
  return pid, pid_counter
end

local py_now, py_call_returned = py.now, py.call_returned
-- The call rt.call_run is running: its PID number, and once it returned, its value.
local AT_ONCE = {number = nil, done = false, value = nil}
-- rt.call_run(budget, entry_id, method, ...): rt.call, then rt.run(budget), in one call
-- into Lua (a Temporal activity's function usually returns before anything else is ready;
-- Python runs it so when the host's driver sleeps, lua_bindings/host.py). When the call's
-- process returns during the run, its value comes back here, not through
-- py.call_returned; if Python adopts it meanwhile, rt.adopt says it is this call's. The
-- PID number, whether processes are still ready, whether the call returned, and its
-- value; nil when rt.call gives nil.
function rt.call_run(budget, entry_id, method, ...)
  local pid, number = rt.call(entry_id, method, ...)
  if pid == nil then return nil end
  AT_ONCE.number = number
  local ok, more = pcall(rt.run, budget)
  local done, value = AT_ONCE.done, AT_ONCE.value
  AT_ONCE.number, AT_ONCE.done, AT_ONCE.value = nil, false, nil
  if not ok then error(more, 0) end
  return number, more, done, value
end
exit_in_lua = function(ctx, value)
  local watcher = ctx.watcher  -- its parent, when spawned monitored (the only monitor in Lua)
  local w = watcher and CONTEXTS[LOCAL[watcher]]
  if w ~= nil then
    local t = type(value)
    if t == "table" or t == "userdata" then  -- the watcher gets its own copy
      local ok, copied = pcall(copy_value, value, {}, 1)
      if not ok then return false end  -- only Python can judge this value
      value = copied
    end
  end
  local pid = ctx.pid
  drop(ctx)
  lua_only = lua_only - 1
  if w ~= nil then
    local at = batch_time
    if at == nil then
      at = py_now()
      batch_time = at
    end
    if w.watching then w.watching[pid] = nil end
    deliver_event(w, {kind = HOST.exit_kind, from = pid, at = at, result = {value = value}})
  end
  -- a normal exit releases links (actors/exits.py: LINK_EXIT_ON_SUCCESS of a process)
  local links, watching = ctx.links, ctx.watching
  if links ~= nil then
    for peer in next, links do
      local p = context_of(peer)
      if p and p.links then p.links[pid] = nil end
    end
  end
  if watching ~= nil then
    for target in next, watching do
      local tc = context_of(target)
      if tc and tc.watcher == pid then tc.watcher = nil end
    end
  end
  local caller = ctx.caller
  if caller == nil then return true end
  if caller == AT_ONCE.number then
    AT_ONCE.done, AT_ONCE.value = true, value
  else
    py_call_returned(caller, value)
  end
  return true
end

-- Python takes over the process of context `key` (a number) or PID text `key`: it will
-- keep its record from now on. Returns context, PID text, entry id, main task, and whether
-- it is the call rt.call_run is running; nil when there is no such process without a
-- record.
function rt.adopt(key)
  local ctx
  if type(key) == "number" then ctx = CONTEXTS[key] else ctx = context_of(key) end
  if ctx == nil or not ctx.lua_only then return nil end
  ctx.lua_only = false
  lua_only = lua_only - 1
  local caller = ctx.caller
  return ctx.id, ctx.pid, ctx.entry.id, ctx.main, caller ~= nil and caller == AT_ONCE.number
end
-- How many live processes have no Python record.
function rt.lua_only_count() return lua_only end
function rt.lua_only_pids()
  local pids = {}
  for _, ctx in next, CONTEXTS do if ctx.lua_only then pids[#pids + 1] = ctx.pid end end
  return pids
end
-- The context of `pid` when it is a live process without a Python record, else nil.
function rt.lua_only_context(pid)
  local ctx = context_of(pid)
  if ctx ~= nil and ctx.lua_only then return ctx.id end
  return nil
end

-- The monitors, links and monitored processes of context `id` kept here, as arrays of PID
-- texts, forgotten here (the process is exiting through Python).
function rt.take_relations(id)
  local ctx = CONTEXTS[id]
  if ctx == nil then return nil end
  local out = {{ctx.watcher}}
  ctx.watcher = nil
  for i, kind in ipairs({"links", "watching"}) do
    local list = {}
    for pid in next, ctx[kind] or NONE do list[#list + 1] = pid end
    out[i + 1] = list
    ctx[kind] = nil
  end
  return out[1], out[2], out[3]
end
-- Forget one relation of `pid` kept here: kind "watchers", "links" or "watching".
-- True when there was one.
function rt.forget_relation(pid, kind, peer)
  local ctx = context_of(pid)
  if kind == "watchers" then
    if ctx == nil or ctx.watcher ~= peer then return false end
    ctx.watcher = nil
    return true
  end
  local set = ctx and ctx[kind]
  if set == nil or not set[peer] then return false end
  set[peer] = nil
  return true
end

-- The return protocol's value must be exportable; its error is kept as is.
function rt.export_result(v, e, ...)
  if e == nil or (type(e) ~= "string" and not is_kind(e, "error")) then
    local ok, r = pcall(export, v)
    if not ok then
      return nil, is_kind(r, "error") and errors.wrap(r, "invalid result") or tostring(r)
    end
    return r
  end
  return v, e
end

-- Compile app code once per host: bytecode that each process instantiates in its own env.
function rt.compile(source, chunkname)
  local fn, err = load(source, chunkname, "t", {})
  if not fn then return false, err end
  return string.dump(fn), false
end

-- Compile runtime module code: it sees the full runtime (`rt`, `py`) and real globals.
-- `code` is source or (from Python's per-process cache) the bytecode of a previous compile.
function rt.compile_module(code, chunkname)
  local fn, err = load(code, chunkname, "bt", _G)
  if not fn then error(err, 0) end
  return fn
end
rt.dump = string.dump

rt.pack, rt.unpack = pack, unpack

-- Immutable builders (SpawnBuilder, Executor): a copy of `fields` of `obj` with `key`
-- replaced, under metatable `mt`; and a shallow merge where `extra` wins.
function rt.derive(obj, fields, key, value, mt)
  local n = {}
  for _, f in ipairs(fields) do n[f] = obj[f] end
  n[key] = value
  return setmetatable(n, mt)
end
function rt.merged(base, extra)
  local r = {}
  if base then for k, v in pairs(base) do r[k] = v end end
  for k, v in pairs(extra) do r[k] = v end
  return r
end
rt.py = py

-- Nothing in the real globals may reach app code: it only ever sees its own env.
return rt
