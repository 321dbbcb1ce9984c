-- Seed: "Запуск workflow" → "Базовый spawn", as written.
-- Completed: the surrounding `main` (a local process) returning the PID.
local function main()
    local pid, err = process.spawn(
        "app:order_workflow",    -- workflow entry
        "app:worker",            -- temporal worker
        {order_id = "123"}       -- input
    )
    if err then
        return nil, err
    end
    return pid
end

return { main = main }
