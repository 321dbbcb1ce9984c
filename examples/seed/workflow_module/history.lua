-- Seed: "Модуль workflow" → "workflow.history_length() / workflow.history_size()", as written.
-- Completed: the surrounding `main` and its return.
local workflow = require("workflow")

local function main()
    local length = workflow.history_length()
    local size = workflow.history_size()

    if length > 10000 then
        -- Consider continue-as-new to reset history
    end
    return {length = length, size = size}
end

return { main = main }
