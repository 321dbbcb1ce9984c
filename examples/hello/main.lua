-- `actors run examples/hello hello`: a local process and a workflow, talking by PID.
local io = require("io")

local function main()
  -- 1. A local process: spawn it, message it, read its answer.
  local greeter = process.spawn("hello:greeter", "hello:processes")
  process.send(greeter, "hello", "local world")
  local answer = process.inbox():receive()
  io.print("greeter says: " .. answer:payload():data())

  -- 2. A workflow: spawn it monitored, so its end arrives as an EXIT event.
  local request = {name = "durable world", greeter = greeter, delay = "1s"}
  local reminder, err = process.spawn_monitored("hello:reminder", "hello:worker", request)
  if not reminder then
    io.eprint("cannot start the workflow: " .. tostring(err))
    return 1
  end
  local event = process.events():receive()
  if event.result.error then
    io.eprint("the workflow failed: " .. tostring(event.result.error))
    return 1
  end
  io.print("reminder says: " .. event.result.value.greeting)

  process.send(greeter, "stop")
  return 0
end

return {main = main}
