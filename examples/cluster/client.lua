-- Clients on another node than the counter: they find it by its cluster-wide name.
local io = require("io")
local time = require("time")

local TIMEOUT = "20s"

local function receive(ch)
  local r = channel.select({ch:case_receive(), time.after(TIMEOUT):case_receive()})
  if r.channel == ch then return r.value end
  error("timed out")
end

-- The counter's PID, once its node has registered it.
local function find_counter()
  for _ = 1, 200 do
    local pid = process.registry.lookup("counter")
    if pid then return pid end
    time.sleep("50ms")
  end
  error("no process registered as counter")
end

local M = {}

-- Adds 1, 2, 3 to the counter, then has a workflow add 10 and report back here.
function M.main()
  local counter = find_counter()
  io.print("counter is " .. counter .. ", I am " .. process.pid())
  local totals = process.listen("total")
  local last
  for n = 1, 3 do
    process.send(counter, "add", n)
    last = receive(totals)
    io.print(("added %d, total %d"):format(n, last))
  end
  local audits = process.listen("audited")
  local wf, err = process.spawn_monitored("cluster:audit", "cluster:workflows", process.pid())
  if not wf then error(err) end
  local audited = receive(audits)
  io.print(("the workflow added 10: total %d"):format(audited))
  local exit = receive(process.events())
  io.print(("workflow %s: %s"):format(exit.kind, tostring(exit.result.value)))
  if audited ~= last + 10 or exit.result.value ~= audited then return 1 end
  return 0
end

-- Monitors the counter and reports how its exit arrived (the test SIGKILLs its node).
function M.watch()
  local counter = find_counter()
  process.monitor(counter)
  io.print("watching " .. counter)
  local event = process.events():receive()
  local err = event.result.error
  io.print(("%s from %s: [%s] %s"):format(event.kind, event.from, err and err:kind(), tostring(err)))
  return 0
end

return M
