-- Seed: "Модуль workflow" → "workflow.version()", as written (`result` is a global there).
-- Completed: the requires, the surrounding `main` and its return.
local funcs = require("funcs")
local workflow = require("workflow")

local function main(input)
    local version = workflow.version("payment-v2", 1, 2)

    if version == 1 then
        result = funcs.call("app:old_payment", input)
    else
        result = funcs.call("app:new_payment", input)
    end
    return result
end

return { main = main }
