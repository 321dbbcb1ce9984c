-- Seed: "Сигналы" → "Подтверждение сигналов", caller side, as written.
-- Completed: the surrounding `main` (a local process) that first starts the workflow side
-- (ack_workflow.lua), and its return.
local time = require("time")

local function main()
    local workflow_pid, err = process.spawn("app:status_workflow", "app:worker")
    if err then
        return nil, err
    end

    -- Caller side
    local response_ch = process.listen("status_response")
    process.send(workflow_pid, "get_status", {})

    local timeout = time.after("5s")
    local result = channel.select{
        response_ch:case_receive(),
        timeout:case_receive()
    }

    if result.channel == response_ch then
        local status = result.value
    end

    return {workflow = workflow_pid, timed_out = result.channel == timeout,
            status = result.channel == response_ch and result.value or nil}
end

return { main = main }
