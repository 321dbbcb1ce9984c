-- The `store` module; lua_store.py has the details. Store objects are small tables around
-- the store's entry id; their methods yield while a SQL store works.

local rt, py = ...
local await, errors, setmetatable, type, tostring = rt.await, rt.errors, setmetatable, type, tostring

local S = {}
local S_MT = {__index = S, __name = "store"}
rt.UNSENDABLE[S_MT] = "store"
S_MT.__tostring = function(s) return "store " .. s.id end

local function message(err)
  if err == nil or type(err) == "string" then return err end
  return err:message()
end

local function call(self, op, ...)
  if self.released then return nil, "store released" end
  local v, err = await(py[op](self.id, ...))
  if err ~= nil then
    if op == "has" then return false, message(err) end
    return nil, message(err)
  end
  return v
end

function S:get(key) return call(self, "get", key) end
function S:set(key, value, ttl) return call(self, "set", key, value, ttl) end
function S:has(key) return call(self, "has", key) end
function S:delete(key) return call(self, "delete", key) end
function S:release() self.released = true; return true end

local store = {}
function store.get(id)
  if id == nil or id == "" then
    return nil, errors.new({kind = errors.INVALID, message = "store.get: id is empty", retryable = false})
  end
  local resolved, err = py.get_store(id)
  if resolved == nil then return nil, err end
  return setmetatable({id = resolved}, S_MT)
end
return store
