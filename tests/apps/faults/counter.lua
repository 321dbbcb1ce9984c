-- Counts "good" messages until "stop" (a workflow or a local process); `spam` sends good
-- messages to a local counter with malformed sends between them.
local function main()
    local inbox = process.inbox()
    local good = 0
    while true do
        local msg = inbox:receive()
        if msg:topic() == "stop" then
            return good
        elseif msg:topic() == "good" and msg:payload():data() == good + 1 then
            good = good + 1
        end
    end
end

local function deep(n)
    local root = {}
    local t = root
    for _ = 1, n do
        t.x = {}
        t = t.x
    end
    return root
end

local function spam(count)
    local target = process.spawn("faults:local_counter", "faults:processes")
    local bad = {
        function() return process.send(target, 42, "number topic") end,
        function() return process.send(target, "", "empty topic") end,
        function() return process.send(target, "@exit", "reserved topic") end,
        function() return process.send(target, "bad", deep(300)) end,
        function() return process.send(target, "bad", {f = function() end}) end,
        function() return process.send(target, "bad", process.inbox()) end,
    }
    local refused = 0
    for i = 1, count do
        local ok, err = bad[(i % #bad) + 1]()
        if not ok and err and err:kind() == "Invalid" then
            refused = refused + 1
        end
        process.send(target, "good", i)
    end
    process.send(target, "stop")
    local events = process.events()
    process.monitor(target)
    local event = events:receive()
    return {refused = refused, good = event.result and event.result.value}
end

return {main = main, spam = spam}
