-- Seed: "Дочерние workflow" → "Передача ошибок от дочерних workflow", as written.
-- Completed: the surrounding `main` (a workflow) and its return of what it printed.
local function main()
    local events_ch = process.events()
    local child_pid, err = process.spawn(
        "app:error_child_workflow",
        "app:worker"
    )

    local event = events_ch:receive()
    if event.result.error then
        local child_err = event.result.error
        -- Error objects have kind(), retryable(), message() methods
        print(child_err:kind())       -- e.g. "NOT_FOUND"
        print(child_err:retryable())  -- false
        print(child_err:message())    -- error message text
    end

    local child_err = event.result.error
    return {kind = child_err:kind(), retryable = child_err:retryable(),
            message = child_err:message()}
end

return { main = main }
