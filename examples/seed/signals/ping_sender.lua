-- Seed: "Сигналы" → "Передача сигналов между workflow", as written (the sender workflow).
-- The receiving side is support/workflows.lua (`ping_receiver`).
-- Sender workflow
local function main(input)
    local target_pid = input.target
    local ok, err = process.send(target_pid, "cross_host_ping", {data = "hello"})
    if err then
        return {ok = false, error = tostring(err)}
    end

    local response_ch = process.listen("cross_host_pong")
    local response = response_ch:receive()
    return {ok = true, received = response}
end

return { main = main }
