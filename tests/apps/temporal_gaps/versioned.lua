-- Records a version of change "pricing", sleeps, returns it. The test edits this file while
-- the workflow sleeps (the range, or an activity before the sleep) to change the code under
-- a running workflow.
local workflow = require("workflow")
local time = require("time")

local function main()
    local version = workflow.version("pricing", 1, 2)
    time.sleep("2s")
    return version
end

return {main = main}
