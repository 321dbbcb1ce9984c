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

local py, sample = ...

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

local PARK = setmetatable({}, {__name = "park"})
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
-- Tasks: the coroutines the scheduler owns (main, and every coroutine.spawn).
-----------------------------------------------------------------------------------------

local TASKS = {}       -- task id -> coroutine
local TASK_CTX = {}    -- task id -> the context (process) it belongs to
local next_task = 0

-- The context of the process whose task runs now: per-process state lives here.
rt.current = nil

-- Contexts live here, keyed by a number Python chooses: Python never holds a Lua object
-- beyond the call that produced it (docs/lua-runtime.md, "lupa and object lifetimes").
local CONTEXTS = {}

local WEAK_VALUES = {__mode = "v"}

-- The live processes of this host that other processes of the host may send to without
-- entering Python: PID text -> context id (`process.send`, see rt.copy).
local LOCAL = {}
rt.LOCAL = LOCAL

-- `pid` is the process's PID text; `routable` puts it in LOCAL (workflow states do not:
-- their messages must go through Temporal).
function rt.new_context(id, pid, routable)
  CONTEXTS[id] = {tasks = {}, cache = {}, imports = {}, slots = {}, pid = pid,
                  futures = setmetatable({}, WEAK_VALUES)}
  if routable then LOCAL[pid] = id end
end

-- The Payload a finished future delivered, so `future:result()` returns that same object
-- (kept weakly: once nothing else holds it, nobody can compare it any more).
function rt.remember_future(id, call, payload)
  local ctx = CONTEXTS[id]
  if ctx then ctx.futures[call] = payload end
end

-- Slots: channel items stay in Lua, parked in their process's context; Python moves only
-- the slot numbers (see channels.py for why).
local slot_seq = 0
local function put(v)
  slot_seq = slot_seq + 1
  rt.current.slots[slot_seq] = v
  return slot_seq
end
-- Python parks a value for process `id` (a timer fire, a delivered message).
function rt.slot_in(id, v)
  local ctx = CONTEXTS[id]
  if ctx == nil then return 0 end
  slot_seq = slot_seq + 1
  ctx.slots[slot_seq] = v
  return slot_seq
end
local function take(n)
  local slots = rt.current.slots
  local v = slots[n]
  slots[n] = nil
  return v
end

-- CPU budget: Lua cannot be pre-empted, so code that runs too long without yielding would
-- stall every other process of the host (or trip Temporal's deadlock detector in a
-- workflow). Every coroutine gets a count hook; past the budget it raises, which fails the
-- process like any uncaught error. No hook at all when the budget is off.
local cpu_budget, step_started = nil, 0
local HOOK_EVERY = 1000000  -- instructions between looks at the clock
local function over_budget()
  if clock() - step_started > cpu_budget then
    error(py.err_new(("ran for more than %gs without yielding"):format(cpu_budget),
                     "Timeout", false), 2)
  end
end
local function create(fn)
  local co = co_create(fn)
  if cpu_budget then dsethook(co, over_budget, "", HOOK_EVERY) end
  return co
end
function rt.set_cpu_budget(seconds) cpu_budget = seconds end

local function new_task(ctx, fn)
  next_task = next_task + 1
  TASKS[next_task] = create(fn)
  TASK_CTX[next_task] = ctx
  ctx.tasks[next_task] = true
  return next_task
end
rt.new_task = new_task

local function end_task(id)
  local ctx = TASK_CTX[id]
  TASKS[id], TASK_CTX[id] = nil, nil
  if ctx then ctx.tasks[id] = nil end
end

-- Resume task `id`; always three values (lupa returns one value unpacked):
-- "park", "done", v, e, or "error", err, traceback.
function rt.step(id, ...)
  local co = TASKS[id]
  if co == nil then return "gone", false, false end
  rt.current = TASK_CTX[id]
  if cpu_budget then step_started = clock() end
  local ok, a, b = co_resume(co, ...)
  rt.current = nil
  if not ok then
    end_task(id)
    if not is_kind(a, "error") then a = tostring(a) end
    return "error", a, traceback(co)
  end
  if co_status(co) == "dead" then
    end_task(id)
    return "done", a, b
  end
  return "park", false, false
end

-- A process ended: forget all its tasks (their coroutines are garbage from now on).
function rt.drop_context(id)
  local ctx = CONTEXTS[id]
  if ctx == nil then return end
  CONTEXTS[id] = nil
  if ctx.pid ~= nil and LOCAL[ctx.pid] == id then LOCAL[ctx.pid] = nil end
  for task in pairs(ctx.tasks) do TASKS[task], TASK_CTX[task] = nil, nil end
  ctx.tasks, ctx.cache, ctx.imports, ctx.slots = {}, {}, {}, {}
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
  if ok and rawequal(first, PARK) and co_status(co) == "suspended" then
    return forward(co, co_resume(co, co_yield(PARK)))
  end
  return ok, first, ...
end

local user_coroutine = {}
for k, v in pairs(coroutine) do user_coroutine[k] = v end
user_coroutine.resume = function(co, ...)
  return forward(co, co_resume(co, ...))
end
user_coroutine.create = create
user_coroutine.wrap = function(fn)
  local co = create(fn)
  return function(...)
    local r = pack(forward(co, co_resume(co, ...)))
    if not r[1] then error(r[2], 0) end
    return unpack(r, 2, r.n)
  end
end
user_coroutine.spawn = function(fn)
  if type(fn) ~= "function" then error("coroutine.spawn expects a function", 2) end
  py.spawn_task(new_task(rt.current, fn))
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
-- Channels (lua-api §5). A channel is a Lua table around a Python channel: method lookup
-- stays in Lua, and state (buffers, waiters) lives in Python where other processes' sends
-- can reach it. Blocking goes through PARK.
-----------------------------------------------------------------------------------------

local C = {}
local CH_MT = {__index = C, __name = "channel"}
CH_MT.__len = function(ch) return py.ch_len(ch.ch) end
rt.CH_MT = CH_MT
local ch_send, ch_recv, ch_close, ch_select = py.ch_send, py.ch_recv, py.ch_close, py.ch_select

local function wrap_channel(pych)
  return setmetatable({ch = pych}, CH_MT)
end
rt.wrap_channel = wrap_channel

function C.send(self, v)
  local slot = put(v)
  local status, ok, err = ch_send(self.ch, slot)
  if status == 0 then
    local index
    index, err, ok = co_yield(PARK)
    ok = index > 0
  end
  if not ok then
    take(slot)
    error(err, 2)
  end
  return true
end
-- What a receive on `ch` hands out for slot `n`. A message another process of the host
-- sent is parked whole (rt.copy); a `listen` channel without `message = true` gives only
-- its value.
local MSG_MT
local function take_for(ch, n)
  local v = take(n)
  if ch.raw and getmetatable(v) == MSG_MT then return v[3] end
  return v
end
function C.receive(self)
  local status, v, ok = ch_recv(self.ch)
  if status == 0 then
    local _
    _, v, ok = co_yield(PARK)
  end
  if ok then return take_for(self, v), true end
  return nil, false
end
function C.close(self) ch_close(self.ch) end
function C.case_send(self, v) return {channel = self, send = true, value = v} end
function C.case_receive(self) return {channel = self, send = false} end

local function is_channel(v)
  return type(v) == "table" and getmetatable(v) == CH_MT
end
rt.is_channel = is_channel

local channel = {}
function channel.new(size) return wrap_channel(py.ch_new(size or 0)) end
function channel.select(cases)
  if type(cases) ~= "table" then error("channel.select expects a table of cases", 2) end
  local chans, sends, values = {}, {}, {}
  local n = #cases
  for i = 1, n do
    local c = cases[i]
    if type(c) ~= "table" or not is_channel(c.channel) then
      error("channel.select: case " .. i .. " is not a select case", 2)
    end
    chans[i], sends[i] = c.channel.ch, c.send == true
    if sends[i] then values[i] = put(c.value) end
  end
  local status, index, value, ok = ch_select(n, chans, sends, values, cases.default == true)
  if status == 0 then index, value, ok = co_yield(PARK) end
  for i = 1, n do
    if sends[i] and i ~= index then take(values[i]) end -- offers that were not taken
  end
  if index < 0 then error(value, 2) end
  if index == 0 then return {default = true, ok = true} end
  local c = cases[index]
  if c.send then
    value = c.value
  elseif ok then
    value = take_for(c.channel, value)
  else
    value = nil
  end
  return {channel = c.channel, value = value, ok = ok}
end
rt.channel = channel

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
function rt.copy(v) return copy_value(v, {}, 1) end

-- Park a message for the process of context `id`, sent by the running process: the slot
-- its mailbox item points to (see ParkedMessage in channels.py).
rt.send_local = py.send_local
function rt.park_message(id, topic, value)
  return rt.slot_in(id, setmetatable({topic, rt.current.pid, value}, MSG_MT))
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
    mt = {__index = nested and function(_, k) return viewed(t[k]) end or t}
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
  local v = ctx.imports[id]
  if v == nil then
    local bytecode, chunkname, spec = py.import_code(id)
    local env = make_env(ctx, spec)
    v = load(bytecode, chunkname, "b", env)()
    ctx.imports[id] = v
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
local ENV_MT = {__index = function(env, k)
  local make, v = LAZY[k], nil
  if make then v = make() else v = base()[k] end
  if v ~= nil then rawset(env, k, v) end
  return v
end}
-- Before app code replaces its environment's metatable (a "strict globals" helper), every
-- lazy name is put in place: nothing may vanish because the lookup hook went away.
local function materialize(env)
  for k in pairs(LAZY) do local _ = env[k] end
  for k in pairs(base()) do local _ = env[k] end
end
app_setmetatable = function(t, mt)
  if getmetatable(t) == ENV_MT then materialize(t) end
  if type(mt) == "table" and not FROZEN[mt] then APP_MT[mt] = true end
  return setmetatable(t, mt)
end

make_env = function(ctx, spec)
  local env = setmetatable({}, ENV_MT)
  local modules, imports = spec.modules, spec.imports
  env.require = function(name)
    local alias = imports[name]
    if alias ~= nil then return import(ctx, alias) end
    if ALWAYS[name] then return env[name] end
    local listed = modules[name]
    if type(listed) == "string" then error(py.err_new(listed, "Invalid", false), 2) end
    if not listed then
      error(py.err_new('module "' .. tostring(name) .. '" is not allowed (not in modules list)',
                       "Invalid", false), 2)
    end
    local key = "module:" .. name
    local m = ctx.cache[key]
    if m == nil then
      local shared = module(name)
      if shared == false then
        error(py.err_new('module "' .. tostring(name) .. '" not found', "NotFound", false), 2)
      end
      m = proxy(shared)  -- shared by the host's processes: writes stay in this process
      ctx.cache[key] = m
    end
    return m
  end
  env._G = env
  return env
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
function rt.define_entry(entry_id, code, chunkname, spec)
  ENTRIES[entry_id] = {factory = load(code, chunkname, "b", {})(), spec = spec}
end
function rt.start_process(id, entry_id, method)
  local ctx = CONTEXTS[id]
  local entry = ENTRIES[entry_id]
  local chunk = entry.factory(make_env(ctx, entry.spec))
  return new_task(ctx, function(...)
    local mod = chunk()
    local fn = mod
    if type(mod) == "table" then fn = mod[method] end
    if type(fn) ~= "function" then
      error(py.err_new("method not found: " .. tostring(method), "NotFound", false), 0)
    end
    return rt.export_result(fn(...))
  end)
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
