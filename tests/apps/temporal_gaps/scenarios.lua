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

return {burst = burst}
