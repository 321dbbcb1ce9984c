-- Seed: "Обработка ошибок" → "Режимы сбоя activity", as written.
-- Completed: the require of `funcs`, the surrounding `main` and its returns.
local funcs = require("funcs")

local function main(input)
    local executor = funcs.new():with_options({
        ["activity.retry_policy"] = {
            maximum_attempts = 1,
        }
    })

    local result, err = executor:call("app:unreliable_activity", input)
    if err then
        local kind = err:kind()         -- "INTERNAL" for runtime errors
        local retryable = err:retryable()
    end

    if err then
        return {kind = err:kind(), retryable = err:retryable(), message = err:message()}
    end
    return {result = result}
end

return { main = main }
