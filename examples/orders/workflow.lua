-- The durable part: validate, record (an activity: it touches the database), confirm.
local funcs = require("funcs")

local function main(order)
    if type(order) ~= "table" or type(order.items) ~= "table" or #order.items == 0 then
        return {status = "rejected", reason = "an order needs items"}
    end
    local recorded, err = funcs.call("orders:record_order", order)
    if err then
        return {status = "rejected", reason = err:message()}
    end
    return {status = "accepted", order_id = recorded.id, total = recorded.total,
            currency = recorded.currency}
end

return {main = main}
