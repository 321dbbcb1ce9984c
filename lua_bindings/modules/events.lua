-- The `events` module (lua-api §14); the bus itself is Python (events.py). A Subscription is
-- a Lua table holding its channel, so `sub:channel()` returns the same channel every time.
-- Each process keeps its subscriptions in its context cache, by channel, for the
-- `unsubscribe(channel)` global; the cache goes away with the process.
--
-- This file also provides the `subscribe` / `unsubscribe` globals (rt.subscribe_impl,
-- rt.unsubscribe_impl; core.lua loads this module on their first use).

local rt, py = ...
local wrap, export, errors = rt.wrap_channel, rt.export, rt.errors
local setmetatable, pcall, type, tostring = setmetatable, pcall, type, tostring

local CACHE_KEY = "events.subscriptions"

local function subscriptions()
  local ctx = rt.current
  if ctx == nil then return nil end
  local cache = rt.cache_of(ctx)
  local subs = cache[CACHE_KEY]
  if subs == nil then
    subs = {}
    cache[CACHE_KEY] = subs
  end
  return subs
end

local S = {}
local SUB_MT = {__index = S, __name = "Subscription"}
SUB_MT.__tostring = function(sub) return "Subscription(" .. tostring(sub.pattern) .. ")" end
if rt.UNSENDABLE ~= nil then rt.UNSENDABLE[SUB_MT] = "Subscription" end

function S.channel(self) return self.ch end

function S.close(self)
  if self.closed then return end
  self.closed = true
  py.unsubscribe(self.id)
  self.ch:close()
  local subs = subscriptions()
  if subs ~= nil then subs[self.ch] = nil end
end

local events = {}
local py_subscribe, py_send = py.subscribe, py.send

function events.subscribe(pattern, kind)
  local id, ch = py_subscribe(pattern, kind)
  if id == nil then return nil, ch end
  local sub = setmetatable({id = id, ch = wrap(ch), pattern = pattern, closed = false}, SUB_MT)
  local subs = subscriptions()
  if subs ~= nil then subs[sub.ch] = sub end
  return sub
end

function events.send(system, kind, path, data)
  if type(data) == "table" or type(data) == "function" or type(data) == "thread" then
    local ok, r = pcall(export, data)
    if not ok then
      if not errors.is(r, errors.INVALID) then
        r = errors.new({kind = errors.INVALID, message = tostring(r), retryable = false})
      end
      return nil, r
    end
    data = r
  end
  return py_send(system, kind, path, data)
end

rt.subscribe_impl = function(pattern, kind)
  local sub, err = events.subscribe(pattern, kind)
  if sub == nil then return nil, err end
  return sub.ch
end

rt.unsubscribe_impl = function(ch)
  local subs = subscriptions()
  local sub = subs ~= nil and subs[ch] or nil
  if sub == nil then return false end
  sub:close()
  return true
end

return events
