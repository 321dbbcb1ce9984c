-- Workflow code may not touch a database: `require("sql")` fails and says where to go.
-- The pure modules (hash, yaml) are fine in a workflow.
local hash = require("hash")
local yaml = require("yaml")

local function main()
    local ok, err = pcall(require, "sql")
    return {ok = ok, error = tostring(err),
            digest = hash.sha256("order"), doc = yaml.decode("a: 1").a}
end

return {main = main}
