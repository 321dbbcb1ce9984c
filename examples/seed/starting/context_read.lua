-- Seed: "Запуск workflow" → "Передача контекста", second block, as written.
-- Completed: `workflow` (a workflow reading its context and calling an activity) and
-- `activity` (that activity, reading the same context).
local funcs = require("funcs")

local function read()
    local ctx = require("ctx")

    local user_id = ctx.get("user_id")       -- "user-1"
    local tenant = ctx.get("tenant")         -- "tenant-1"
    local all = ctx.all()                    -- {user_id="user-1", tenant="tenant-1", request_id="req-abc"}
    return {user_id = user_id, tenant = tenant, all = all}
end

local function workflow()
    local seen = read()
    seen.activity = funcs.call("app:context_activity")
    return seen
end

return { workflow = workflow, activity = read }
