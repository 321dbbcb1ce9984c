-- Not in the seed: local processes playing the caller side of the seed's workflow examples
-- that wait for messages. Each starts its workflow, talks to it and returns what it saw.
local M = {}

local function exit_result(pid)
    local event = process.events():receive()
    return {pid = pid, from_workflow = event.from == pid, result = event.result.value,
            error = event.result.error and tostring(event.result.error)}
end

-- signals/inbox.lua: sends `messages` ({topic, data} pairs) in order.
function M.inbox(order, messages)
    local pid, err = process.spawn_monitored("app:inbox_workflow", "app:worker", order)
    if err then return nil, err end
    for _, m in ipairs(messages) do
        process.send(pid, m[1], m[2])
    end
    return exit_result(pid)
end

-- signals/listen_topics.lua: one "add_job" per job, then "exit".
function M.jobs(jobs)
    local pid, err = process.spawn_monitored("app:jobs_workflow", "app:worker", {})
    if err then return nil, err end
    for _, job in ipairs(jobs) do
        process.send(pid, "add_job", job)
    end
    process.send(pid, "exit")
    return exit_result(pid)
end

-- signals/listen_message.lua: the workflow reads this process as the sender.
function M.request()
    local pid, err = process.spawn_monitored("app:request_workflow", "app:worker")
    if err then return nil, err end
    process.send(pid, "request", {question = "status?"})
    local out = exit_result(pid)
    out.me = process.pid()
    return out
end

-- signals/counter.lua: each request waits for its final reply ("ok" or "nak").
function M.counter(requests)
    local pid, err = process.spawn_monitored("app:counter_workflow", "app:worker", {initial = 0})
    if err then return nil, err end
    local inbox = process.inbox()
    local replies = {}
    for _, r in ipairs(requests) do
        process.send(pid, r[1], r[2])
        repeat
            local msg = inbox:receive()
            table.insert(replies, {msg:topic(), msg:payload():data()})
        until msg:topic() ~= "ack"
    end
    local out = exit_result(pid)
    out.replies = replies
    return out
end

-- signals/ping_sender.lua against support/workflows.lua `ping_receiver`.
function M.ping()
    local receiver, err = process.spawn_monitored("app:ping_receiver_workflow", "app:worker")
    if err then return nil, err end
    local sent, serr = process.exec("app:ping_sender_workflow", "app:worker", {target = receiver})
    return {receiver = receiver, sender_result = sent, sender_error = serr and tostring(serr),
            receiver_exit = exit_result(receiver)}
end

-- starting/context_read.lua: the workflow and its activity read this context.
function M.context_read()
    local pid, err = process
        .with_context({user_id = "user-1", tenant = "tenant-1", request_id = "req-abc"})
        :spawn_monitored("app:context_workflow", "app:worker")
    if err then return nil, err end
    return exit_result(pid)
end

return M
