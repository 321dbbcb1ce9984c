-- Seed: "Запуск workflow" → "Параметры запуска workflow", as written.
-- Completed: the surrounding `main` (a local process; the order is its input) and the spawn
-- the seed leaves out. As written it cannot start: the server refuses a cron schedule
-- together with a start delay (README.md); `main` reports that error.
local function main(order)
    local spawner = process.with_options({
        ["temporal.workflow.id"] = "order-123",
        ["temporal.workflow.execution_timeout"] = "24h",
        ["temporal.workflow.run_timeout"] = "1h",
        ["temporal.workflow.task_timeout"] = "30s",
        ["temporal.workflow.id_conflict_policy"] = "fail",
        ["temporal.workflow.retry_policy"] = {
            initial_interval = 1000,
            backoff_coefficient = 2.0,
            maximum_interval = 300000,
            maximum_attempts = 3,
        },
        ["temporal.workflow.cron_schedule"] = "0 */6 * * *",
        ["temporal.workflow.search_attributes"] = {
            customer_id = "cust-123"
        },
        ["temporal.workflow.memo"] = {
            source = "api"
        },
        ["temporal.workflow.start_delay"] = "5m",
        ["temporal.workflow.parent_close_policy"] = "terminate",
    })

    local pid, err = spawner:spawn("app:order_workflow", "app:worker", order)
    if err then
        return {kind = err:kind(), retryable = err:retryable(), message = err:message()}
    end
    return {pid = pid}
end

return { main = main }
