-- Seed: "Запуск workflow" → "Spawn с именем", as written.
-- Completed: the surrounding `main` (a local process; the order is its input) waiting for
-- the EXIT event of the monitored spawn.
local function main(order)
    local spawner = process
        .with_options({})
        :with_name("order-" .. order.id)

    local pid, err = spawner:spawn_monitored(
        "app:order_workflow",
        "app:worker",
        {order_id = order.id}
    )
    if err then
        return nil, err
    end
    local event = process.events():receive()
    return {pid = pid, result = event.result.value}
end

return { main = main }
