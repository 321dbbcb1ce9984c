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

-- Sets the search attributes it is given (and a memo); an error is part of the result.
local function attrs(search)
    local workflow = require("workflow")
    local ok, err = workflow.attrs({search = search, memo = {note = "set by attrs"}})
    if not ok then
        return {error = tostring(err), kind = err:kind()}
    end
    return {ok = ok, again = workflow.attrs({search = search})}
end

-- Calls the slow activity with the given activity options.
local function call_slow(ms, options)
    local funcs = require("funcs")
    local result, err = funcs.new():with_options(options or {}):call("gaps:slow", ms)
    if err then
        return {error = tostring(err), kind = err:kind()}
    end
    return {result = result}
end

-- Counts "m" messages until "stop"; returns the count.
local function sink()
    local inbox = process.inbox()
    local count = 0
    while true do
        local msg = inbox:receive()
        if msg:topic() == "stop" then
            return count
        end
        count = count + 1
    end
end

-- Receives nothing until "go" arrives after `pause`, then counts what waited.
local function deaf(pause)
    require("time").sleep(pause)
    local inbox = process.inbox()
    local count = 0
    while inbox:receive():topic() ~= "go" do
        count = count + 1
    end
    return count
end

return {counter = counter, attrs = attrs, call_slow = call_slow, sink = sink, deaf = deaf}
