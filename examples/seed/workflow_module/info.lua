-- Seed: "Модуль workflow" → "workflow.info()", as written.
-- Completed: the surrounding `main`, which also returns the table it printed.
local function main()
    local workflow = require("workflow")

    local info = workflow.info()
    print(info.workflow_id)    -- Workflow execution ID
    print(info.run_id)         -- Current run ID
    print(info.workflow_type)  -- Workflow type name
    print(info.task_queue)     -- Task queue name
    print(info.namespace)      -- Temporal namespace
    print(info.attempt)        -- Current attempt number
    print(info.history_length) -- Number of history events
    print(info.history_size)   -- History size in bytes

    return info
end

return { main = main }
