-- The two steps of durable:two_steps; their results depend on their inputs only.
local function reserve(order)
  return {id = "R-" .. order.id, items = order.items}
end

local function confirm(reservation)
  return ("confirmed %s (%d items)"):format(reservation.id, reservation.items)
end

return {reserve = reserve, confirm = confirm}
