-- Seed: "Сигналы" → "Подтверждение сигналов", workflow side, as written.
-- Completed: the surrounding `main` and its return.
local function main()
    -- Workflow side
    local ch = process.listen("get_status", {message = true})
    local msg = ch:receive()
    process.send(msg:from(), "status_response", {status = "processing", progress = 75})
    return "answered"
end

return { main = main }
