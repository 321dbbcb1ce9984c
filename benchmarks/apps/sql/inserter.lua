local sql = require("sql")

local function main(n)
    local db = assert(sql.get("bench:db"))
    assert(db:execute("CREATE TABLE IF NOT EXISTS items (id INTEGER, name TEXT)"))
    local tx = assert(db:begin())
    for i = 1, n do
        assert(tx:execute("INSERT INTO items (id, name) VALUES (?, ?)", {i, "item"}))
    end
    assert(tx:commit())
    return n
end

return {main = main}
