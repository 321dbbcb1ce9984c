-- Seed: "Запуск workflow" → "Сообщения при запуске", second block, as written.
-- Completed: the surrounding `main` (a local process): it collects the "ok" replies of both
-- increments, finishes the counter and returns both PIDs, the replies and the final result.
local function main()
    -- First spawn starts the workflow with initial messages
    local first = process
        .with_options({})
        :with_name("my-counter")
        :with_message("increment", {amount = 3})

    local pid, err = first:spawn("app:counter_workflow", "app:worker", {initial = 0})

    -- Second spawn reuses existing workflow and delivers new messages
    local second = process
        .with_options({})
        :with_name("my-counter")
        :with_message("increment", {amount = 2})

    local pid2, err = second:spawn("app:counter_workflow", "app:worker", {initial = 999})
    -- pid2 == pid (same workflow), input {initial = 999} is ignored
    -- But the increment message with amount=2 is delivered
    if err then
        return nil, err
    end

    local inbox = process.inbox()
    local values = {}
    while #values < 2 do
        local msg = inbox:receive()
        if msg:topic() == "ok" then
            table.insert(values, msg:payload():data().value)
        end
    end
    process.monitor(pid)
    process.send(pid, "finish")
    local event = process.events():receive()
    return {pid = pid, pid2 = pid2, values = values, result = event.result.value}
end

return { main = main }
