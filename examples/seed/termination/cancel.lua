-- Seed: "Завершение и отмена" → "Отмена", as written. The second argument is the cancel
-- reason in this runtime (README.md): the workflow sees a CANCEL event with reason "5s".
-- Completed: the surrounding `main` (a local process) monitoring a long workflow, and its
-- return of the EXIT event the monitor receives.
local function main()
    local workflow_pid = process.spawn_monitored("app:long_workflow", "app:worker", {iterations = 100})

    local ok, err = process.cancel(workflow_pid, "5s")

    local event = process.events():receive()
    local error = event.result.error
    return {pid = workflow_pid, cancelled = ok, kind = event.kind, from = event.from == workflow_pid,
            error = error and {kind = error:kind(), message = error:message()},
            result = event.result.value}
end

return { main = main }
