local sql = require("sql")

-- Outside the timing, as the Python side connects and creates its table untimed: the
-- table, and the pool's connection (it stays idle for the inserter).
local function setup()
    local db = assert(sql.get("bench:db"))
    assert(db:execute("CREATE TABLE items (id INTEGER, name TEXT)"))
    db:release()
end

local function main(n)
    local db = assert(sql.get("bench:db"))
    local tx = assert(db:begin())
    for i = 1, n do
        assert(tx:execute("INSERT INTO items (id, name) VALUES (?, ?)", {i, "item"}))
    end
    assert(tx:commit())
    return n
end

-- The same inserts through a statement prepared on the transaction (`tx:prepare`, as the
-- reference contract has it).
local function prepared(n)
    local db = assert(sql.get("bench:db"))
    local tx = assert(db:begin())
    local stmt = assert(tx:prepare("INSERT INTO items (id, name) VALUES (?, ?)"))
    for i = 1, n do
        assert(stmt:execute({i, "item"}))
    end
    assert(tx:commit())
    return n
end

return {main = main, prepared = prepared, setup = setup}
