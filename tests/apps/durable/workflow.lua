-- Activity, durable timer, activity: a worker killed during the sleep must not matter.
local funcs = require("funcs")
local time = require("time")

local function main(order)
  local reservation = funcs.call("durable:reserve", order)
  time.sleep(order.pause)
  local confirmation = funcs.call("durable:confirm", reservation)
  return {reservation = reservation, confirmation = confirmation}
end

return {main = main}
