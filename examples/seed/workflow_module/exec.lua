-- Seed: "Модуль workflow" → "workflow.exec()", and the identical block of
-- "Дочерние workflow" → "Синхронный дочерний (workflow.exec)", as written.
-- Completed: the surrounding `main` and its return of the child's result.
local workflow = require("workflow")

local function main(input_data)
    local result, err = workflow.exec("app:child_workflow", input_data)
    if err then
        return nil, err
    end
    return result
end

return { main = main }
