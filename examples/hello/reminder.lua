-- A workflow: sleeps on a durable timer, then asks the greeter for a greeting and
-- returns it. A worker restart during the sleep does not lose it.
local time = require("time")

local function main(request)
  time.sleep(request.delay)
  process.send(request.greeter, "hello", request.name)
  local greeting = process.listen("greeting"):receive()
  return {greeting = greeting, slept = request.delay}
end

return {main = main}
