-- The `time` module (lua-api §6). Python (time.py, gotime.py) does the work; this file
-- shapes the calls: blocking ones go through rt.await, argument errors of functions without
-- an `err` result are raised, and the methods of Time, Duration and Location values are
-- installed in rt.METHODS. Timers and tickers are Lua tables holding their channel, so
-- `channel()` / `response()` return the same object every time.
--
-- This file runs once per host state and its table is shared by every process of the host:
-- no per-process state lives here (timers hold their own, and Python checks which process
-- is running through `host.current`).

local rt, py = ...
local await, wrap = rt.await, rt.wrap_channel
local METHODS = rt.METHODS
local error, ipairs, pairs, setmetatable = error, ipairs, pairs, setmetatable

-- Python answers `true, values...` or `false, err` for calls whose errors are raised.
local function check(ok, ...)
  if not ok then error((...), 2) end
  return ...
end

local time = {}
for name, value in pairs(py.constants) do time[name] = value end

-- Module functions ----------------------------------------------------------------------

local py_now, py_date, py_unix = py.now, py.date, py.unix
local py_parse, py_parse_duration, py_load_location, py_fixed_zone =
  py.parse, py.parse_duration, py.load_location, py.fixed_zone

function time.now() return py_now() end
function time.date(y, mo, d, h, mi, s, ns, loc)
  return check(py_date(y, mo, d, h, mi, s, ns, loc))
end
function time.unix(sec, nsec) return check(py_unix(sec, nsec)) end
function time.parse(layout, value, loc) return py_parse(layout, value, loc) end
function time.parse_duration(v) return py_parse_duration(v) end
function time.load_location(name) return py_load_location(name) end
function time.fixed_zone(name, offset) return check(py_fixed_zone(name, offset)) end

local py_sleep = py.sleep
function time.sleep(d) return await(py_sleep(d)) end

local py_after = py.after
function time.after(d)
  local ch, err = py_after(d)
  if not ch then return nil, err end
  return wrap(ch)
end

-- Timer -----------------------------------------------------------------------------------

local Timer = {}
local TIMER_MT = {__index = Timer, __name = "timer"}
local py_timer, py_timer_stop, py_timer_reset = py.timer, py.timer_stop, py.timer_reset

function time.timer(d)
  local state, ch = py_timer(d)
  if not state then return nil, ch end
  return setmetatable({state = state, ch = wrap(ch)}, TIMER_MT)
end
function Timer:channel() return self.ch end
Timer.response = Timer.channel
function Timer:stop() return py_timer_stop(self.state) end
function Timer:reset(d) return check(py_timer_reset(self.state, d)) end

-- Ticker ----------------------------------------------------------------------------------

local Ticker = {}
local TICKER_MT = {__index = Ticker, __name = "ticker"}
local py_ticker, py_ticker_stop = py.ticker, py.ticker_stop

function time.ticker(d)
  local state, ch = py_ticker(d)
  if not state then return nil, ch end
  return setmetatable({state = state, ch = wrap(ch)}, TICKER_MT)
end
function Ticker:channel() return self.ch end
Ticker.response = Ticker.channel
function Ticker:stop() return py_ticker_stop(self.state) end

-- Timers and tickers stay in their process (their channel could not cross anyway; this
-- names them in the error).
local UNSENDABLE = rt.UNSENDABLE
if UNSENDABLE then UNSENDABLE[TIMER_MT], UNSENDABLE[TICKER_MT] = "timer", "ticker" end

-- Time methods (§6.2) ---------------------------------------------------------------------

local T = {}
for _, name in ipairs(py.time_getters) do
  local f = py["t_" .. name]
  T[name] = function(t) return f(t) end
end
for _, name in ipairs({"add", "sub", "before", "after", "equal", "format", "in_location",
                       "round", "truncate"}) do
  local f = py["t_" .. name]
  T[name] = function(t, x) return check(f(t, x)) end
end
local py_add_date = py.t_add_date
function T.add_date(t, y, m, d) return check(py_add_date(t, y, m, d)) end
local py_rfc3339, py_zone = py.t_format_rfc3339, py.t_zone
function T.format_rfc3339(t) return py_rfc3339(t) end
function T.zone(t) return py_zone(t) end
METHODS.time = T

-- Duration methods (§6.3) -----------------------------------------------------------------

local D = {}
for _, name in ipairs(py.duration_methods) do
  local f = py["d_" .. name]
  D[name] = function(d) return f(d) end
end
METHODS.duration = D

-- Location methods ------------------------------------------------------------------------

local py_lstring = py.l_string
METHODS.location = {string = function(loc) return py_lstring(loc) end}

return time
