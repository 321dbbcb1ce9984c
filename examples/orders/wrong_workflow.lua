-- Workflow code may not touch a database: `require("sql")` fails and says where to go.
local function main()
    local ok, err = pcall(require, "sql")
    return {ok = ok, error = tostring(err)}
end

return {main = main}
