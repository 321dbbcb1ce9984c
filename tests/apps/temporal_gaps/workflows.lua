-- Workflows of the gap tests.

-- The seed's counter: increments are answered from a second coroutine, "finish" by main,
-- which returns while that coroutine's reply (a local activity) may still be in flight
-- (issue 12 item 5).
local function counter(input)
    local total = input.initial or 0
    coroutine.spawn(function()
        local ch = process.listen("increment", {message = true})
        while true do
            local msg = ch:receive()
            process.send(msg:from(), "ack")
            total = total + msg:payload():data().amount
            process.send(msg:from(), "ok", {value = total})
        end
    end)
    local msg = process.listen("finish", {message = true}):receive()
    process.send(msg:from(), "ack")
    process.send(msg:from(), "ok", {total = total})
    return {total = total}
end

return {counter = counter}
