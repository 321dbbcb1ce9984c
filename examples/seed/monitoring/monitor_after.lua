-- Seed: "Мониторинг и связывание" → "Мониторинг после запуска", as written.
-- Completed: the surrounding `main` (a local process) and its return of the EXIT event.
local function main()
    local pid, err = process.spawn(
        "app:long_workflow",
        "app:worker",
        {iterations = 100}
    )

    -- Monitor later
    local ok, err = process.monitor(pid)

    local events_ch = process.events()
    local event = events_ch:receive()  -- EXIT when workflow completes
    return {pid = pid, monitored = ok, kind = event.kind, from = event.from,
            result = event.result.value}
end

return { main = main }
