-- Signals (seed: "Сигналы"): the inbox pattern, listen + select with a timeout, and the
-- counter with one coroutine per signal kind (driven by Updates, whose replies are sends).
local time = require("time")
local M = {}

-- Inbox pattern: wait for "approve" or "cancel".
function M.inbox(order)
    local inbox = process.inbox()
    local seen = {}
    while true do
        local msg = inbox:receive()
        local topic = msg:topic()
        local data = msg:payload():data()
        table.insert(seen, topic)
        if topic == "approve" then
            break
        elseif topic == "cancel" then
            return {status = "cancelled", reason = data.reason, seen = seen}
        end
    end
    return {status = "approved", order = order, seen = seen}
end

-- listen(topic, {message = true}) in a select with a time.after timeout.
function M.listen(input)
    local ch = process.listen("request", {message = true})
    local timeout = time.after(input.timeout or "1s")
    local result = channel.select{ch:case_receive(), timeout:case_receive()}
    if result.channel == ch then
        local msg = result.value
        return {got = msg:payload():data(), topic = msg:topic(), from = msg:from()}
    end
    return {timeout = true, at_type = type(result.value)}
end

-- The seed's counter: one coroutine per topic, replies to msg:from() (an Update here).
function M.counter(input)
    local counter = input.initial or 0
    local done = false

    coroutine.spawn(function()
        local ch = process.listen("increment", {message = true})
        while not done do
            local msg, ok = ch:receive()
            if not ok then break end
            local data = msg:payload():data()
            local reply_to = msg:from()
            if type(data) ~= "table" or type(data.amount) ~= "number" then
                process.send(reply_to, "nak", "amount must be a number")
            else
                process.send(reply_to, "ack")
                counter = counter + data.amount
                process.send(reply_to, "ok", {value = counter})
            end
        end
    end)

    coroutine.spawn(function()
        local ch = process.listen("decrement", {message = true})
        while not done do
            local msg, ok = ch:receive()
            if not ok then break end
            local data = msg:payload():data()
            local reply_to = msg:from()
            if counter - data.amount < 0 then
                process.send(reply_to, "nak", "would result in negative value")
            else
                process.send(reply_to, "ack")
                counter = counter - data.amount
                process.send(reply_to, "ok", {value = counter})
            end
        end
    end)

    local finish_ch = process.listen("finish", {message = true})
    local msg = finish_ch:receive()
    process.send(msg:from(), "ack")
    process.send(msg:from(), "ok", {message = "finishing"})
    done = true
    return {final_counter = counter}
end

-- Sends to itself (delivered in-VM) and reports what arrived, with the sender.
function M.self_send()
    local ch = process.listen("note", {message = true})
    local ok, err = process.send(process.pid(), "note", {n = 1}, "two")
    local msg = ch:receive()
    return {ok = ok, err = err and tostring(err), value = msg:payload():data(),
            from_self = msg:from() == process.pid()}
end

-- Workflow → workflow: ping the target's PID and wait for the pong (seed: cross-host ping).
function M.pinger(input)
    local response_ch = process.listen("pong")
    local ok, err = process.send(input.target, "ping", {data = "hello"})
    if err then
        return {ok = false, error = tostring(err), kind = err:kind()}
    end
    local response = response_ch:receive()
    return {ok = true, received = response}
end

function M.ponger()
    local ch = process.listen("ping", {message = true})
    local msg = ch:receive()
    local ok, err = process.send(msg:from(), "pong", {echo = msg:payload():data(), me = process.pid()})
    return {pinged_by = msg:from(), replied = ok, err = err and tostring(err)}
end

-- Sending to a workflow that does not exist: NotFound, not retryable (defect 16).
function M.send_missing(input)
    local ok, err = process.send(input.target, "hello", 1)
    return {ok = ok, kind = err and err:kind(), retryable = err and err:retryable(),
            message = err and err:message()}
end

-- Workflow → local process by name and by PID (relay local activity), then a reply.
function M.to_local(input)
    local replies = process.listen("reply")
    local ok1, err1 = process.send("driver-collector", "note", {step = 1})
    local ok2, err2 = process.send(input.pid, "note", {step = 2})
    local ok3, err3 = process.send("no-such-name", "note", {step = 3})
    local ok4, err4 = process.send("{app:processes|0xfffff}", "note", {step = 4})
    local reply = replies:receive()
    return {
        by_name = ok1, by_pid = ok2, err1 = err1 and tostring(err1), err2 = err2 and tostring(err2),
        missing_kind = err3 and err3:kind(), missing = err3 and err3:message(),
        dead_kind = err4 and err4:kind(), dead = err4 and err4:message(),
        reply = reply,
    }
end

return M
