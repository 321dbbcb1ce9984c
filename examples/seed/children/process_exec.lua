-- Seed: "Дочерние workflow" → "Синхронное выполнение workflow (process.exec)", as written.
-- Completed: the surrounding `main` (a workflow) and its return.
local function main()
    local result, err = process.exec(
        "app:hello_workflow",
        "app:worker",
        {name = "world"}
    )
    if err then
        return nil, err
    end
    -- result contains the workflow return value
    return result
end

return { main = main }
