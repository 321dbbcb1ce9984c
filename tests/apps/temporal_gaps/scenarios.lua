-- Local processes of the gap tests: each returns what it observed.

-- Three increments and the finish, all as startup messages (issue 12 item 5).
local function burst()
    local pid, err = process
        .with_options({})
        :with_message("increment", {amount = 2})
        :with_message("increment", {amount = 1})
        :with_message("increment", {amount = 4})
        :with_message("finish")
        :spawn_monitored("gaps:counter", "gaps:worker", {initial = 0})
    if err then
        return nil, err
    end
    local event = process.events():receive()
    if event.result.error then
        return nil, event.result.error
    end
    return {workflow = pid:match("|(.*)}$"), result = event.result.value}
end

-- Spawns of misconfigured workflows: each must fail at once, naming the mistake.
local function bad_spawns()
    local out = {}
    for _, name in ipairs({"no_worker", "ghost_worker", "broken"}) do
        local pid, err = process.spawn_monitored("gaps:" .. name, "gaps:worker", {})
        out[name] = {pid = pid, kind = err and err:kind(), message = err and tostring(err)}
    end
    return out
end

-- A workflow whose code fails while loading: its monitor gets EXIT with the error.
local function load_failure(name)
    local pid, err = process.spawn_monitored(name, "gaps:worker")
    if err then
        return nil, err
    end
    local event = process.events():receive()
    local failure = event.result.error
    return {kind = event.kind, error_kind = failure and failure:kind(), message = tostring(failure)}
end

-- A workflow started with search attributes (the start option): its PID, or the error.
local function attrs_at_start(search)
    local pid, err = process
        .with_options({["workflow.search_attributes"] = search})
        :spawn("gaps:attrs", "gaps:worker", {})
    if err then
        return {error = tostring(err), kind = err:kind()}
    end
    return {workflow = pid:match("|(.*)}$")}
end

-- Counts messages until "stop", like the sink workflow.
local function local_sink()
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

-- The bad sends toward a local process and a workflow, then one good message each.
local function bad_sends()
    local sends = require("sends")
    local sink = process.spawn_monitored("gaps:local_sink", "gaps:processes")
    local workflow = process.spawn_monitored("gaps:sink", "gaps:worker")
    local out = {["local"] = sends.probe(sink), workflow = sends.probe(workflow)}
    local prober = process.spawn_monitored("gaps:wf_bad_sends", "gaps:worker", workflow, sink)
    out.from_workflow = process.events():receive().result.value
    for _, pid in ipairs({sink, workflow}) do
        process.send(pid, "m", "good")
        process.send(pid, "stop")
    end
    local events = process.events()
    local counts = {}
    for _ = 1, 2 do
        local event = events:receive()
        counts[event.from == sink and "local" or "workflow"] = event.result.value
    end
    out.counts = counts
    return out
end

return {burst = burst, bad_spawns = bad_spawns, load_failure = load_failure,
    local_sink = local_sink, bad_sends = bad_sends,
    attrs_at_start = attrs_at_start}
