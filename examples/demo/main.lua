-- Spawns a worker linked and monitored, traps the link, hands it jobs, and watches it fail.
local io = require("io")
local time = require("time")

local function main()
  process.set_options({trap_links = true})
  local worker = process.spawn_linked_monitored("demo:worker", "demo:processes", 2)
  io.print("spawned worker " .. worker .. " (linked and monitored)")

  local done = process.listen("done")
  for n = 1, 2 do
    process.send(worker, "job", n)
    io.print(("job %d -> %d"):format(n, done:receive()))
  end

  local events = process.events()
  local seen = {}
  while not (seen[process.event.EXIT] and seen[process.event.LINK_DOWN]) do
    local r = channel.select({events:case_receive(), time.after("5s"):case_receive()})
    if r.channel ~= events then
      io.eprint("timed out waiting for the worker's exit")
      return 1
    end
    local event = r.value
    seen[event.kind] = true
    io.print(("%s from %s: %s"):format(event.kind, event.from, tostring(event.result.error)))
  end
  io.print("the worker failed; this process trapped the link and is still running")
  return 0
end

return {main = main}
