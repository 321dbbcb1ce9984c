-- Seed: "Запуск workflow" → "Политики конфликтов ID", second block, as written.
-- Completed: the surrounding `main` (a local process; the order is its input) reporting the
-- PID or the error.
local function main(order)
    -- Error when already started (alternative approach)
    local spawner = process
        .with_options({
            ["temporal.workflow.id"] = "order-123",
            ["temporal.workflow.execution_error_when_already_started"] = true,
        })

    local pid, err = spawner:spawn("app:order_workflow", "app:worker", order)
    if err then
        return {kind = err:kind(), retryable = err:retryable(), message = err:message()}
    end
    return {pid = pid}
end

return { main = main }
