-- Waits for the truck on a durable timer, then tells the inventory what left.
local time = require("time")

local function main(request)
  time.sleep("1s")
  process.send(request.inventory, "shipped", request.items)
  return {shipped = request.items}
end

return {main = main}
