-- Seed: "Завершение и отмена" → "Принудительное завершение", as written.
-- Completed: the surrounding `main` (a local process) monitoring a long workflow, and its
-- return of the EXIT event the monitor receives.
local function main()
    local workflow_pid = process.spawn_monitored("app:long_workflow", "app:worker", {iterations = 100})

    local ok, err = process.terminate(workflow_pid)

    local event = process.events():receive()
    local error = event.result.error
    return {terminated = ok, kind = event.kind, from = event.from == workflow_pid,
            error = {kind = error:kind(), message = error:message()}}
end

return { main = main }
