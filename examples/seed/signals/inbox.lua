-- Seed: "Сигналы" → "Паттерн inbox", as written.
-- Completed: `process_order`, which the seed calls but does not show (it ships the order).
local funcs = require("funcs")

local function process_order(order)
    local shipment, err = funcs.call("app:ship_order", {
        order_id = order.id,
        address = order.shipping_address
    })
    if err then
        return nil, err
    end
    return {status = "approved", tracking = shipment.tracking_number}
end

local function main(order)
    local inbox = process.inbox()

    while true do
        local msg = inbox:receive()
        local topic = msg:topic()
        local data = msg:payload():data()

        if topic == "approve" then
            break
        elseif topic == "cancel" then
            return {status = "cancelled", reason = data.reason}
        end
    end

    return process_order(order)
end

return { main = main }
