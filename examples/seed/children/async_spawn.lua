-- Seed: "Дочерние workflow" → "Асинхронный дочерний (process.spawn)", as written.
-- Completed: the surrounding `main` (a workflow) and its return of the child's outcome.
local function main()
    local events_ch = process.events()

    local child_pid, err = process.spawn(
        "app:child_workflow",
        "app:worker",
        {message = "hello from parent"}
    )
    if err then
        return {status = "spawn_failed", error = tostring(err)}
    end

    -- Wait for child EXIT event
    local event = events_ch:receive()

    if event.kind == process.event.EXIT then
        local child_result = event.result.value
        local child_error = event.result.error
    end

    local failure = event.result.error
    return {child_pid = child_pid, from = event.from, result = event.result.value,
            error = failure and tostring(failure)}
end

return { main = main }
