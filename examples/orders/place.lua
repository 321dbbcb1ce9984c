-- `actors run examples/orders place`: place a sample order through the workflow and print
-- what the service answered, then how many orders the database holds.
local io = require("io")
local json = require("json")
local funcs = require("funcs")
local time = require("time")

local function main()
    local order = {customer = "c-42", items = {{sku = "book", price = 12.5, qty = 2},
                                               {sku = "pen", price = 1.2}}}
    local wf, err = process.spawn_monitored("orders:place_order", "orders:worker", order)
    if not wf then
        io.eprint("cannot start the workflow: " .. tostring(err))
        return 1
    end
    local r = channel.select({process.events():case_receive(), time.after("60s"):case_receive()})
    if r.channel ~= process.events() or r.value.kind ~= process.event.EXIT then
        io.eprint("no answer from the workflow within 60 s")
        return 1
    end
    local event = r.value
    if event.result.error then
        io.eprint("the workflow failed: " .. tostring(event.result.error))
        return 1
    end
    io.print("answer: " .. json.encode(event.result.value))
    local count = funcs.call("orders:order_count")
    io.print(("orders recorded: %d, total %.2f"):format(count.count, count.sum))
    return 0
end

return {main = main}
