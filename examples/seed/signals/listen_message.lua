-- Seed: "Сигналы" → "Подписка по топикам", the `{message = true}` block, as written.
-- Completed: the surrounding `main` (a workflow) returning what it read.
local function main()
    local ch = process.listen("request", {message = true})
    local msg = ch:receive()
    local sender = msg:from()
    local data = msg:payload():data()
    return {sender = sender, data = data}
end

return { main = main }
