-- The `json` module (lua-api §11). Python (json.py, jsoncodec.py) does the work; this file
-- prepares values first, because only Lua can see a table's metatable: payloads become
-- their data, and functions, coroutines, channels, messages and cycles are refused with an
-- `Internal` error before Python walks the value. Tables are copied only where a payload
-- had to be replaced.

local rt, py = ...
local errors, PAYLOAD_MT, CH_MT = rt.errors, rt.PAYLOAD_MT, rt.CH_MT
local type, next, getmetatable, rawget, rawequal, error, pcall, tostring =
  type, next, getmetatable, rawget, rawequal, error, pcall, tostring

local MAX_DEPTH = 128

local function fail(message)
  error(errors.new({kind = errors.INTERNAL, message = message, retryable = false}), 0)
end

local prepare
local function prepare_table(t, seen, depth)
  local mt = getmetatable(t)
  if mt ~= nil then
    if mt == PAYLOAD_MT then
      local data, err = t:data()
      if err ~= nil then fail("cannot encode payload: " .. tostring(err)) end
      return prepare(data, seen, depth)
    end
    if mt == CH_MT then fail("cannot encode value of type channel") end
    if type(mt) == "table" and rawget(mt, "__name") == "message" then
      fail("cannot encode value of type message")
    end
    local unsendable = rt.UNSENDABLE
    if unsendable ~= nil and unsendable[mt] then
      fail("cannot encode value of type " .. tostring(unsendable[mt]))
    end
  end
  if depth > MAX_DEPTH then
    fail("cannot encode value nested deeper than " .. MAX_DEPTH .. " levels")
  end
  if seen[t] then fail("cannot encode cyclic table") end
  seen[t] = true
  local copy
  for k, v in next, t do
    local tv = type(v)
    if tv == "table" or tv == "function" or tv == "thread" then
      local nv = prepare(v, seen, depth + 1)
      if not rawequal(nv, v) then
        if not copy then copy = {}; for k2, v2 in next, t do copy[k2] = v2 end end
        copy[k] = nv
      end
    end
  end
  seen[t] = nil
  return copy or t
end

prepare = function(v, seen, depth)
  local t = type(v)
  if t == "table" then return prepare_table(v, seen, depth) end
  if t == "function" or t == "thread" then fail("cannot encode value of type " .. t) end
  return v
end

local json = {}

local py_encode, py_decode, py_validate, py_validate_string =
  py.encode, py.decode, py.validate, py.validate_string

function json.encode(v)
  if type(v) == "table" then
    local ok, r = pcall(prepare, v, {}, 1)
    if not ok then return nil, r end
    v = r
  elseif type(v) == "function" or type(v) == "thread" then
    return nil, errors.new({kind = errors.INTERNAL, retryable = false,
                            message = "cannot encode value of type " .. type(v)})
  end
  return py_encode(v)
end

function json.decode(s) return py_decode(s) end

function json.validate(schema, v)
  local ok, r = pcall(prepare, v, {}, 1)
  if not ok then
    return false, errors.new({kind = errors.INVALID, retryable = false,
                              message = "validation failed: " .. tostring(r)})
  end
  if type(schema) == "table" then
    local ok2, s = pcall(prepare, schema, {}, 1)
    if not ok2 then
      return false, errors.new({kind = errors.INVALID, retryable = false,
                                message = "invalid schema: " .. tostring(s)})
    end
    schema = s
  end
  return py_validate(schema, r)
end

function json.validate_string(schema, s)
  if type(schema) == "table" then
    local ok, r = pcall(prepare, schema, {}, 1)
    if not ok then
      return false, errors.new({kind = errors.INVALID, retryable = false,
                                message = "invalid schema: " .. tostring(r)})
    end
    schema = r
  end
  return py_validate_string(schema, s)
end

return json
