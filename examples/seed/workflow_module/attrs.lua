-- Seed: "Модуль workflow" → "workflow.attrs()", as written.
-- Completed: the surrounding `main` (the order is its input) and a return. The search
-- attributes must be registered on the server (see _index.yaml and README.md).
local workflow = require("workflow")

local function main(order)
    workflow.attrs({
        search = {
            status = "processing",
            customer_id = order.customer_id,
            order_total = order.total
        },
        memo = {
            notes = "Priority customer",
            source = "web"
        }
    })
    return {status = "processing"}
end

return { main = main }
