-- Reserves each item of `order.items` from `order.inventory` (a PID), ships what it got.
local function main(order)
  local replies = process.listen("reserved")
  local reserved, missing = {}, {}
  for _, item in ipairs(order.items) do
    process.send(order.inventory, "reserve", item)
    local reply = replies:receive()
    table.insert(reply.ok and reserved or missing, item)
  end

  local request = {items = reserved, inventory = order.inventory}
  local shipment, err = process.spawn_monitored("shop:shipment", "shop:worker", request)
  if not shipment then
    return nil, err
  end
  local event = process.events():receive()
  if event.result.error then
    return nil, event.result.error
  end
  return {shipped = event.result.value.shipped, missing = missing}
end

return {main = main}
