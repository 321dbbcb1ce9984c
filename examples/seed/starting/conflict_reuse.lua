-- Seed: "Запуск workflow" → "Политики конфликтов ID", third block, as written.
-- Completed: the surrounding `main` (a local process; the order is its input) returning the PID.
local function main(order)
    -- Reuse existing (default behavior with explicit ID)
    local spawner = process
        .with_options({
            ["temporal.workflow.id"] = "order-123",
        })

    local pid, err = spawner:spawn("app:order_workflow", "app:worker", order)
    -- Returns existing workflow PID if already running
    if err then
        return nil, err
    end
    return {pid = pid}
end

return { main = main }
