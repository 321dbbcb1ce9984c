-- The `process` global (lua-api §4). Python does the work; this file shapes the calls:
-- blocking operations go through rt.await, values are packed as the reference does, and
-- SpawnBuilders are immutable Lua tables.

local rt, py = ...
local await, pack, errors, export = rt.await, rt.pack, rt.errors, rt.export
local pairs, ipairs = pairs, ipairs
local select, type, setmetatable, error, tostring = select, type, setmetatable, error, tostring

local process = {}

process.event = {
  EXIT = "pid.exit",
  LINK_DOWN = "pid.link.down",
  CANCEL = "pid.cancel",
  OUTDATED = "pid.outdated",
}

function process.pid() return rt.current.pid end  -- the PID text the context was made with
function process.id() return py.frame_id() end

-- send(dest, topic) -> nil; send(dest, topic, a) -> a; more values -> {a, b, ...}
local py_send, send_local = py.send, rt.send_local
local LOCAL, copy, FOREIGN = rt.LOCAL, rt.copy, rt.FOREIGN
local byte = string.byte
local MUTABLE = {table = true, userdata = true, ["function"] = true, thread = true}
function process.send(dest, topic, ...)
  local n = select("#", ...)
  local value
  if n == 1 then value = ... elseif n > 1 then value = {...} end
  -- Another process of this host: copied and delivered in Lua, no Python at all.
  local target = LOCAL[dest]
  if target and type(topic) == "string" and topic ~= "" and byte(topic, 1) ~= 64 then
    if not MUTABLE[type(value)] then
      return send_local(target, topic, value)  -- immutable: nothing to copy
    end
    local ok, copied = pcall(copy, value)
    if ok then return send_local(target, topic, copied) end
    if copied ~= FOREIGN then return nil, copied end
  end
  local ok, exported = pcall(export, value)
  if not ok then return nil, exported end
  return await(py_send(dest, topic, exported))
end

-- The mailbox's channels (core.lua): the same channel on every call.
process.inbox, process.events = rt.inbox, rt.events
local listen = rt.listen
function process.listen(topic, opts)
  if type(topic) ~= "string" or topic == "" then
    error(errors.new({kind = errors.INVALID, message = "topic cannot be empty", retryable = false}), 2)
  end
  if topic:sub(1, 1) == "@" then
    error(errors.new({kind = errors.INVALID, message = "cannot listen to @ topics", retryable = false}), 2)
  end
  return listen(topic, not (type(opts) == "table" and opts.message == true))
end
process.unlisten = rt.unlisten

-- Lifecycle -------------------------------------------------------------------------------

for _, name in ipairs({"terminate", "monitor", "unmonitor", "link", "unlink"}) do
  local f = py[name]
  process[name] = function(dest) return await(f(dest)) end
end
local py_cancel = py.cancel
function process.cancel(dest, reason) return await(py_cancel(dest, reason)) end

function process.get_options() return py.get_options() end
function process.set_options(opts)
  if type(opts) ~= "table" then
    return false, errors.new({kind = errors.INVALID, message = "options parameter must be a table", retryable = false})
  end
  return py.set_options(opts)
end

-- Upgrade (lua-api §4.8): only hosts that provide py.upgrade support it (workflows continue
-- as new, temporal.md §13); on success it does not return.
function process.upgrade(id, ...)
  local py_upgrade = py.upgrade
  if py_upgrade == nil then
    return nil, errors.new({kind = errors.INVALID, message = "process.upgrade is not supported on this host", retryable = false})
  end
  local ok, args = pcall(export, pack(...))
  if not ok then return nil, args end
  return await(py_upgrade(id, args))
end

-- Spawning --------------------------------------------------------------------------------

local py_spawn, py_exec = py.spawn, py.exec
local spec -- a builder's spawn spec (below); actor and scope travel beside it, as userdata

-- A builder's spec and the arguments as they leave the process. A value that cannot cross
-- makes the call return nil, err (lua-api §4.1); it does not raise.
local function outgoing(b, ...)
  local ok, s = true, nil
  if b then ok, s = pcall(export, spec(b)) end
  if not ok then return false, s end
  local args
  ok, args = pcall(export, pack(...))
  if not ok then return false, args end
  return true, s, args
end

local spawn_in_lua = rt.spawn
local function spawner(mode)
  return function(b, id, host, ...)
    local ok, s, args = outgoing(b, ...)
    if not ok then return nil, s end
    return await(py_spawn(mode, id, host, s, args, b and b.actor, b and b.scope))
  end
end
local spawn_modes = {
  spawn = spawner("spawn"),
  spawn_monitored = spawner("monitored"),
  spawn_linked = spawner("linked"),
  spawn_linked_monitored = spawner("linked_monitored"),
}
for name, f in pairs(spawn_modes) do
  local monitor, link = name:find("monitored") ~= nil, name:find("linked") ~= nil
  process[name] = function(id, host, ...)
    -- A cached entry on this host, without a builder: spawned in Lua (core.lua, rt.spawn).
    local pid = spawn_in_lua(id, host, monitor, link, ...)
    if pid then return pid end
    return f(nil, id, host, ...)
  end
end
function process.exec(id, host, ...)
  local ok, _, args = outgoing(nil, ...)
  if not ok then return nil, _ end
  return await(py_exec(id, host, nil, args))
end

-- SpawnBuilder: immutable; every method returns a new builder (lua-api §4.7).
local Builder = {}
Builder.__index = Builder
Builder.__name = "SpawnBuilder"

local BUILDER_FIELDS = {"context", "options", "name", "messages", "actor", "scope"}
local function derive(b, key, value) return rt.derive(b, BUILDER_FIELDS, key, value, Builder) end
local merged = rt.merged
local function new_builder() return setmetatable({}, Builder) end

function Builder:with_context(values)
  if type(values) ~= "table" then error("with_context expects a table", 2) end
  return derive(self, "context", merged(self.context, values))
end
function Builder:with_options(options)
  if type(options) ~= "table" then error("options parameter must be a table", 2) end
  return derive(self, "options", merged(self.options, options))
end
function Builder:with_name(name) return derive(self, "name", name) end
function Builder:with_actor(actor) return derive(self, "actor", actor) end
function Builder:with_scope(scope) return derive(self, "scope", scope) end
function Builder:with_message(topic, ...)
  local n = select("#", ...)
  local value
  if n == 1 then value = ... elseif n > 1 then value = {...} end
  local messages = {}
  for i, m in ipairs(self.messages or {}) do messages[i] = m end
  messages[#messages + 1] = {topic = topic, value = value}
  return derive(self, "messages", messages)
end
spec = function(b)
  return {context = b.context, options = b.options, name = b.name, messages = b.messages}
end
for name, f in pairs(spawn_modes) do
  Builder[name] = function(self, id, host, ...) return f(self, id, host, ...) end
end
function Builder:exec(id, host, ...)
  local ok, s, args = outgoing(self, ...)
  if not ok then return nil, s end
  return await(py_exec(id, host, s, args, self.actor, self.scope))
end

function process.with_context(values) return new_builder():with_context(values) end
function process.with_options(options) return new_builder():with_options(options) end

-- Names -------------------------------------------------------------------------------------

process.registry = {
  LOCAL = 0, EVENTUAL = 1, CONSISTENT = 2, STRONG = 3,
  register = function(name, pid, scope) return await(py.register(name, pid, scope)) end,
  lookup = function(name) return py.lookup(name) end,
  unregister = function(name, scope) return py.unregister(name, scope) end,
}

return process
