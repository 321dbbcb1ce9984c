-- Not in the seed: the activities its workflows call. Each is a `function.lua` entry
-- registered on app:worker (meta.temporal.activity.worker) and runs outside the
-- deterministic sandbox.
local M = {}

local function invalid(message)
    return nil, errors.new({kind = errors.INVALID, message = message, retryable = false})
end

-- {amount = number, customer = string} → a payment.
function M.charge_payment(req)
    if type(req) ~= "table" or type(req.amount) ~= "number" then
        return invalid("charge_payment: amount is required")
    end
    return {id = "pay-" .. tostring(req.customer), amount = req.amount}
end

-- {order_id, address} → a shipment. The basic example reads `tracking_number`, the saga
-- `tracking`: both are set.
function M.ship_order(req)
    if type(req) ~= "table" or not req.address then
        return invalid("ship_order: no shipping address")
    end
    local number = "TRK-" .. tostring(req.order_id)
    return {tracking_number = number, tracking = number}
end

function M.refund_payment(payment_id)
    return {refunded = payment_id}
end

-- items → a reservation.
function M.reserve_inventory(items)
    if type(items) ~= "table" or #items == 0 then
        return invalid("reserve_inventory: no items")
    end
    return {id = "res-" .. #items, items = items}
end

function M.release_inventory(reservation_id)
    return {released = reservation_id}
end

function M.echo_activity(input)
    return input
end

function M.fetch_data(id)
    return {id = id, data = "data of " .. tostring(id)}
end

-- Knows one order; anything else is NOT_FOUND (not retryable).
function M.risky_activity(order)
    if type(order) == "table" and order.id == "o-1" then
        return {id = order.id, risk = "low"}
    end
    local id = type(order) == "table" and tostring(order.id) or "?"
    return nil, errors.new({kind = errors.NOT_FOUND, message = "order " .. id .. " not found",
                            retryable = false})
end

-- Always raises: a Lua runtime error, which reaches the workflow as INTERNAL.
function M.unreliable_activity(input)
    error("unreliable_activity: connection reset")
end

function M.old_payment(input)
    return {method = "old", input = input}
end

function M.new_payment(input)
    return {method = "new", input = input}
end

return M
