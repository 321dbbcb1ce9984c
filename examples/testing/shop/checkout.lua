-- A durable checkout: prices each item with the `shop:price` activity, in order, and
-- returns the total. Its recorded history is in examples/testing/histories.
local funcs = require("funcs")

local function main(order)
  local total = 0
  for _, item in ipairs(order.items) do
    local cents, err = funcs.call("shop:price", item)
    if err then
      return nil, err
    end
    total = total + cents
  end
  return {customer = order.customer, total = total}
end

return {main = main}
