-- Activities for the driver tests.
local M = {}

function M.echo(...)
    local ctx = require("ctx")
    local trace = ctx.get("trace")
    return {args = {...}, trace = trace, user = ctx.get("user_id")}
end

function M.failing(req)
    if req.raise then error("activity exploded") end
    return nil, errors.new({kind = req.kind, message = "failed on purpose", retryable = req.retryable})
end

function M.slow(seconds)
    local time = require("time")
    time.sleep(seconds * time.SECOND)
    return "slow done"
end

return M
