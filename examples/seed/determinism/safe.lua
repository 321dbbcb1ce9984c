-- Seed: "Детерминизм" → "Безопасные для replay операции", as written. Its durable hour
-- comes second, so a test sees the first activity done and that timer pending (README.md).
-- Completed: the requires and the surrounding `main` (the ID is its input) and its return.
local funcs = require("funcs")
local time = require("time")
local uuid = require("uuid")
local crypto = require("crypto")
local workflow = require("workflow")

local function main(id, input)
    -- Activity calls
    local data = funcs.call("app:fetch_data", id)

    -- Durable sleep
    time.sleep("1h")

    -- Current time
    local now = time.now()

    -- UUID generation
    local id = uuid.v4()

    -- Crypto operations
    local bytes = crypto.random_bytes(32)

    -- Child workflows
    local result = workflow.exec("app:child", input)

    -- Versioning
    local v = workflow.version("change-1", 1, 2)

    return {data = data, now = now:unix(), id = id, bytes = #bytes, result = result, v = v}
end

return { main = main }
