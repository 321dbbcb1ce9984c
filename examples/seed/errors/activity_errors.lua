-- Seed: "Обработка ошибок" → "Ошибки activity", as written.
-- Completed: the require of `funcs`, the surrounding `main` (the order is its input) and its
-- returns.
local funcs = require("funcs")

local function main(order)
    local result, err = funcs.call("app:risky_activity", order)
    if err then
        print(err:kind())       -- error classification (e.g. "NOT_FOUND", "INTERNAL")
        print(err:retryable())  -- whether the error is retryable
        print(err:message())    -- human-readable error message
    end

    if err then
        return {kind = err:kind(), retryable = err:retryable(), message = err:message()}
    end
    return {result = result}
end

return { main = main }
