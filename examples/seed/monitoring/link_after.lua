-- Seed: "Мониторинг и связывание" → "Связывание после запуска", as written.
-- Completed: the require of `time`, the surrounding `main` (a local process) and its
-- return of the LINK_DOWN event.
local time = require("time")

local function main()
    local ok, err = process.set_options({trap_links = true})

    local pid, err = process.spawn(
        "app:long_workflow",
        "app:worker",
        {iterations = 100}
    )

    -- Link after workflow has started
    time.sleep("200ms")
    local ok, err = process.link(pid)

    -- If workflow is terminated, receive LINK_DOWN
    process.terminate(pid)

    local events_ch = process.events()
    local event = events_ch:receive()
    -- event.kind == process.event.LINK_DOWN
    local error = event.result.error
    return {pid = pid, linked = ok, kind = event.kind, from = event.from,
            error = {kind = error:kind(), message = error:message()}}
end

return { main = main }
