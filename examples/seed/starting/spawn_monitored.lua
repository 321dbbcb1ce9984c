-- Seed: "Запуск workflow" → "Spawn с мониторингом", as written.
-- Completed: the surrounding `main` (a local process) returning what the EXIT event carried.
local function main()
    local pid, err = process.spawn_monitored(
        "app:order_workflow",
        "app:worker",
        {order_id = "123"}
    )

    local events = process.events()
    local event = events:receive()

    if event.kind == process.event.EXIT then
        local result = event.result.value
        local error = event.result.error
    end

    local failure = event.result.error
    return {pid = pid, from = event.from, result = event.result.value,
            error = failure and tostring(failure)}
end

return { main = main }
