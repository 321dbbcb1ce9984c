-- The `logger` module and the `print` global (logger.py has the details).
--
-- A logger is a table of functions bound to its fields and name (upvalues), so both call
-- styles work on every logger, children included: logger.info("msg", fields) and
-- logger:info("msg", fields). A method call is recognised by its first argument being
-- that logger, or a table reading through to it (`require` hands each process a proxy of
-- the root logger).

local rt, py = ...
local setmetatable, type, tostring, select, pairs, pack, concat =
  setmetatable, type, tostring, select, pairs, table.pack, table.concat

local LOGGER_MT = {__name = "logger"}
LOGGER_MT.__tostring = function() return "logger" end

local LEVELS = {debug = "debug", info = "info", warn = "warn", warning = "warn", error = "error"}
local py_log = py.log

local new_logger
new_logger = function(fields, name)
  local self = {}
  local function is_self(a)
    return type(a) == "table" and a.debug == self.debug
  end
  for method, level in pairs(LEVELS) do
    self[method] = function(a, b, c)
      local msg, extra = a, b
      if is_self(a) then msg, extra = b, c end
      if type(msg) ~= "string" then msg = tostring(msg) end
      py_log(level, name, msg, fields, extra)
    end
  end
  self.with = function(a, b)
    local extra = a
    if is_self(a) then extra = b end
    local merged = {}
    if fields then for k, v in pairs(fields) do merged[k] = v end end
    if type(extra) == "table" then for k, v in pairs(extra) do merged[k] = v end end
    return new_logger(merged, name)
  end
  self.named = function(a, b)
    local child = a
    if is_self(a) then child = b end
    child = tostring(child)
    if name then child = name .. "." .. child end
    return new_logger(fields, child)
  end
  return setmetatable(self, LOGGER_MT)
end

-- The `print` global (core.lua loads this module on its first use).
local py_print = py.print
rt.print_impl = function(...)
  local n = select("#", ...)
  if n == 1 then
    local v = ...
    return py_print(type(v) == "string" and v or tostring(v))
  end
  local parts = pack(...)
  for i = 1, n do parts[i] = tostring(parts[i]) end
  py_print(concat(parts, "\t", 1, n))
end

-- The module value is the root logger.
return new_logger(nil, nil)
