-- Part 1: spawns a worker linked and monitored, traps the link, hands it jobs, and watches it
-- fail. Part 2: starts a durable workflow monitored, messages it, reads its reply and its EXIT.
local io = require("io")
local json = require("json")
local time = require("time")

local TIMEOUT = "30s"

-- The next item of `ch`, or nil after TIMEOUT (the demo must never hang).
local function receive(ch)
  local r = channel.select({ch:case_receive(), time.after(TIMEOUT):case_receive()})
  if r.channel == ch then return r.value end
  return nil
end

local function local_processes(events)
  process.set_options({trap_links = true})
  local worker = process.spawn_linked_monitored("demo:worker", "demo:processes", 2)
  io.print("spawned worker " .. worker .. " (linked and monitored)")

  local done = process.listen("done")
  for n = 1, 2 do
    process.send(worker, "job", n)
    io.print(("job %d -> %d"):format(n, done:receive()))
  end

  local seen = {}
  while not (seen[process.event.EXIT] and seen[process.event.LINK_DOWN]) do
    local event = receive(events)
    if not event then
      io.eprint("timed out waiting for the worker's exit")
      return false
    end
    seen[event.kind] = true
    io.print(("%s from %s: %s"):format(event.kind, event.from, tostring(event.result.error)))
  end
  io.print("the worker failed; this process trapped the link and is still running")
  return true
end

local function workflow(events)
  local wf, err = process.spawn_monitored("demo:greeter", "demo:workflows", "Hello")
  if not wf then
    io.eprint("cannot start the workflow: " .. tostring(err))
    return false
  end
  io.print("started workflow " .. wf .. " (monitored)")

  local replies = process.listen("reply", {message = true})
  process.send(wf, "greet", "demo")
  io.print("sent it a greet message")

  local reply = receive(replies)
  if not reply then
    io.eprint("timed out waiting for the workflow's reply")
    return false
  end
  io.print(("reply from %s: %s"):format(reply:from(), reply:payload():data()))

  local event = receive(events)
  if not event then
    io.eprint("timed out waiting for the workflow's exit")
    return false
  end
  local result = event.result.error and tostring(event.result.error)
    or json.encode(event.result.value)
  io.print(("%s from %s: %s"):format(event.kind, event.from, result))
  return event.kind == process.event.EXIT and event.result.error == nil
end

local function main()
  local events = process.events()
  if not local_processes(events) or not workflow(events) then return 1 end
  return 0
end

return {main = main}
