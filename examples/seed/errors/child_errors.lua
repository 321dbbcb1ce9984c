-- Seed: "Обработка ошибок" → "Ошибки дочерних workflow", as written.
-- Completed: the surrounding `main` (a workflow) and its returns.
local function main()
    local result, err = process.exec("app:error_workflow", "app:worker")
    if err then
        print(err:kind())       -- e.g. "NOT_FOUND"
        print(err:retryable())  -- false
        print(err:message())    -- error details
    end

    if err then
        return {kind = err:kind(), retryable = err:retryable(), message = err:message()}
    end
    return {result = result}
end

return { main = main }
