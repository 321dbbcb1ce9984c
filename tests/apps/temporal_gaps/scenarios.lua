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

return {burst = burst, bad_spawns = bad_spawns, load_failure = load_failure}
