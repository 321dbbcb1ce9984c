-- Starts a job monitored and linked (trapping links), and reports what arrived for it.
local function main(n, pause)
    process.set_options({trap_links = true})
    local pid, err = process.spawn_monitored("faults:job", "faults:worker", n, pause, 100)
    if err then
        return nil, err
    end
    local ok, link_err = process.link(pid)
    if not ok then
        return nil, link_err
    end
    local events = process.events()
    local seen = {}
    while #seen < 1 do
        local event = events:receive()
        table.insert(seen, {kind = event.kind, value = event.result and event.result.value})
    end
    return {events = seen}
end

return {main = main}
