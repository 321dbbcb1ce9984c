-- Seed: "Запуск workflow" → "Spawn с явным workflow ID", as written.
-- Completed: the surrounding `main` (a local process; the order is its input) returning the
-- PID. The order workflow then waits in its durable one-hour sleep.
local function main(order)
    local spawner = process
        .with_options({
            ["temporal.workflow.id"] = "order-" .. order.id,
        })

    local pid, err = spawner:spawn_monitored(
        "app:order_workflow",
        "app:worker",
        order
    )
    if err then
        return nil, err
    end
    return pid
end

return { main = main }
