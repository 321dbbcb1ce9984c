-- Seed: "Запуск workflow" → "Политики конфликтов ID", first block, as written.
-- Completed: the surrounding `main` (a local process; the order is its input) reporting the
-- PID or the error.
local function main(order)
    -- Fail if workflow already exists
    local spawner = process
        .with_options({
            ["temporal.workflow.id"] = "order-123",
            ["temporal.workflow.id_conflict_policy"] = "fail",
        })

    local pid, err = spawner:spawn("app:order_workflow", "app:worker", order)
    if err then
        -- Workflow already running with this ID
    end

    if err then
        return {kind = err:kind(), retryable = err:retryable(), message = err:message()}
    end
    return {pid = pid}
end

return { main = main }
