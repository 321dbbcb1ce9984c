-- Seed: "Запуск workflow" → "Передача контекста", first block, as written.
-- Completed: the surrounding `main` (a local process; the order is its input) returning the
-- PID. The context travels in the start request's header to the workflow and its activities.
local function main(order)
    local spawner = process.with_context({
        user_id = "user-1",
        tenant = "tenant-1",
        request_id = "req-abc",
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
