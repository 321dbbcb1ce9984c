-- Not in the seed: the workflows the seed's examples start but do not show.
local M = {}

-- app:child_workflow (and app:child of the determinism block): answers with its input.
function M.child(input)
    return {received = input}
end

-- app:error_child_workflow and app:error_workflow: fail with a NOT_FOUND error.
function M.error_child()
    return nil, errors.new({kind = errors.NOT_FOUND, message = "order not found", retryable = false})
end

-- app:hello_workflow
function M.hello(input)
    return "hello, " .. input.name
end

-- app:long_workflow, which the monitoring, linking, terminate and cancel examples act on:
-- `iterations` steps of 20 ms of (simulated) work, waited for with one durable timer. A
-- cancel request ends it in the cancelled state.
function M.long(input)
    local time = require("time")
    local iterations = input.iterations or 10
    local work = time.after(iterations * 20 * time.MILLISECOND)
    local events = process.events()
    local r = channel.select{work:case_receive(), events:case_receive()}
    if r.channel == events and r.value.kind == process.event.CANCEL then
        return nil, errors.new({kind = errors.CANCELED, message = "cancelled: " .. r.value.reason,
                                retryable = false})
    end
    return {iterations = iterations}
end

-- app:ping_receiver_workflow, the other side of signals/ping_sender.lua.
function M.ping_receiver()
    local msg = process.listen("cross_host_ping", {message = true}):receive()
    process.send(msg:from(), "cross_host_pong", {echo = msg:payload():data(), from = process.pid()})
    return {pinged_by = msg:from()}
end

return M
