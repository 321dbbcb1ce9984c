-- Seed: "Мониторинг и связывание" → "Отмена мониторинга / связывания", as written.
-- Completed: the surrounding `main` (a local process) that monitors and links a long
-- workflow first, then, after the seed's two calls, terminates it: no EXIT or LINK_DOWN
-- may arrive. A new monitor of the finished workflow then reports its end.
local time = require("time")

local function main()
    process.set_options({trap_links = true})
    local pid = process.spawn("app:long_workflow", "app:worker", {iterations = 100})
    process.monitor(pid)
    process.link(pid)

    process.unmonitor(pid)  -- stop receiving EXIT events
    process.unlink(pid)     -- remove bidirectional link

    process.terminate(pid)
    process.monitor(pid)
    local events = process.events()
    local first = events:receive()
    -- Anything the old monitor or link delivered would be here by now.
    local quiet = time.after("500ms")
    local more = channel.select{events:case_receive(), quiet:case_receive()}
    return {
        kind = first.kind,
        error = first.result.error and first.result.error:message(),
        extra_event = more.channel ~= quiet,
    }
end

return { main = main }
