-- The `funcs` module (lua-api §7). Python (funcs.py) runs the calls; this file shapes them:
-- `call` yields through rt.await, Executors are immutable Lua tables, and a Future is a Lua
-- table around the Python call and its channel (the same channel table on every call).

local rt, py = ...
local await, export, pack, wrap, errors = rt.await, rt.export, rt.pack, rt.wrap_channel, rt.errors
local pairs, pcall, select, setmetatable, type = pairs, pcall, select, setmetatable, type

local py_call, py_async = py.call, py.async
local py_result, py_error, py_cancel = py.result, py.error, py.cancel
local py_is_complete, py_is_canceled = py.is_complete, py.is_canceled
-- Workflows only (temporal_host/wf_modules/funcs.py): `funcs.call` without an executor hands
-- the caller's task, the target and the exported arguments to one Python function that
-- issues the activity, instead of the executor's seven fields and an argument table that
-- Python reads back element by element; and it hands it over as a deferred call
-- (rt.defer_call, temporal_host/wf_env.lua): made by Python when the kernel stops, without
-- a crossing back into Python from here. Nil for processes.
local py_plain, unpack = py.call_plain, table.unpack

local function invalid(message)
  return errors.new({kind = errors.INVALID, message = message, retryable = false})
end

-- Arguments are copied at the caller; a value that cannot travel fails the call (nil, err).
local function export_args(...)
  local ok, args = pcall(export, pack(...))
  if ok then return args end
  if not rt.is_kind(args, "error") then args = invalid(tostring(args)) end
  return nil, args
end

-- Future ----------------------------------------------------------------------------------

local F = {}
local FUTURE_MT = {__index = F, __name = "future"}
rt.UNSENDABLE[FUTURE_MT] = "future"

function F:response() return self._ch end
F.channel = F.response
function F:is_complete() return py_is_complete(self._call) end
function F:is_canceled() return py_is_canceled(self._call) end
-- The same Payload on every call once the call succeeded (lua-api §7.3), cached here:
-- Python keeps only the data.
function F:result()
  local ok, id, value = py_result(self._call)
  if ok ~= true then return ok, id end
  local cached = self._payload or rt.current.futures[id]
  if cached == nil then cached = rt.payload(value) end
  self._payload = cached
  return cached, nil
end
function F:error() return py_error(self._call) end
function F:cancel() return py_cancel(self._call) end

-- Calls -----------------------------------------------------------------------------------

local NONE = {}

local function call(ex, target, ...)
  local args, err = export_args(...)
  if not args then return nil, err end
  return await(py_call(target, ex.context, ex.timeout, ex.actor, ex.scope, args, ex.options))
end

local function async(ex, target, ...)
  local args, err = export_args(...)
  if not args then return nil, err end
  local c, ch = py_async(target, ex.context, ex.timeout, ex.actor, ex.scope, args, ex.options)
  if not c then return nil, ch end
  return setmetatable({_call = c, _ch = wrap(ch)}, FUTURE_MT)
end

-- Executor: immutable; every with_* returns a new executor plus err (lua-api §7.2).

local Executor = {}
local EXECUTOR_MT = {__index = Executor, __name = "Executor"}
rt.UNSENDABLE[EXECUTOR_MT] = "executor"

local EXECUTOR_FIELDS = {"context", "timeout", "options", "actor", "scope"}
local function derive(ex, key, value)
  return rt.derive(ex, EXECUTOR_FIELDS, key, value, EXECUTOR_MT)
end
local merged = rt.merged

function Executor:with_context(values)
  if type(values) ~= "table" then return nil, invalid("with_context expects a table") end
  local copy, err = py.check_context(values)
  if copy == nil then return nil, err end
  return derive(self, "context", merged(self.context, copy)), nil
end
function Executor:with_options(options)
  if type(options) ~= "table" then return nil, invalid("options must be a table") end
  local timeout, err = py.check_timeout(options)
  if timeout == nil then return nil, err end
  local n = derive(self, "options", merged(self.options, options))
  if options.timeout ~= nil then n.timeout = timeout or nil end
  return n, nil
end
function Executor:with_actor(actor)
  if not py.check_actor(actor) then return nil, invalid("with_actor expects a security Actor") end
  return derive(self, "actor", actor), nil
end
function Executor:with_scope(scope)
  if not py.check_scope(scope) then return nil, invalid("with_scope expects a security Scope") end
  return derive(self, "scope", scope), nil
end
function Executor:call(target, ...) return call(self, target, ...) end
function Executor:async(target, ...) return async(self, target, ...) end

-- Whether every argument is a value `export` passes as it is (no table, function or
-- coroutine): then there is nothing to copy or refuse.
local function all_plain(n, ...)
  for i = 1, n do
    local t = type((select(i, ...)))
    if t == "table" or t == "function" or t == "thread" then return false end
  end
  return true
end

local funcs = {}
function funcs.call(target, ...)
  if py_plain == nil then return call(NONE, target, ...) end
  local n = select("#", ...)
  if n <= 2 and all_plain(n, ...) then return await(rt.defer_call(py_plain, target, ...)) end
  local args, err = export_args(...)
  if not args then return nil, err end
  return await(rt.defer_call(py_plain, target, unpack(args, 1, args.n)))
end
function funcs.async(target, ...) return async(NONE, target, ...) end
function funcs.new() return setmetatable({}, EXECUTOR_MT) end
return funcs
