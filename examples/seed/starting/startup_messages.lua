-- Seed: "Запуск workflow" → "Сообщения при запуске", first block, as written.
-- Completed: the surrounding `main` (a local process) talking to the counter workflow
-- (signals/counter.lua): it collects the three "ok" replies to the startup messages, sends
-- "finish" and returns the replies and the EXIT event's result.
local function main()
    local spawner = process
        .with_options({})
        :with_name("counter-workflow")
        :with_message("increment", {amount = 2})
        :with_message("increment", {amount = 1})
        :with_message("increment", {amount = 4})

    local pid, err = spawner:spawn_monitored(
        "app:counter_workflow",
        "app:worker",
        {initial = 0}
    )
    if err then
        return nil, err
    end

    local inbox = process.inbox()
    local values = {}
    while #values < 3 do
        local msg = inbox:receive()
        if msg:topic() == "ok" then
            table.insert(values, msg:payload():data().value)
        end
    end
    process.send(pid, "finish")
    local event = process.events():receive()
    return {pid = pid, values = values, result = event.result.value}
end

return { main = main }
