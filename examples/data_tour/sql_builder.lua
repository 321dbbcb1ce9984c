local sql = require("sql")
local b = sql.builder

local function main()
    local db = assert(sql.get("tour:db"))
    assert(db:execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, tag TEXT)"))

    assert(b.insert("items"):columns("name", "qty", "tag")
        :values("apple", 5, "fruit")
        :values("pear", 0, "fruit")
        :values("nail", 200, sql.NULL)
        :run_with(db):exec())

    local query = b.select("name", "qty"):from("items")
        :where(b.and_({b.gt({qty = 0}), b.eq({tag = "fruit"})}))
        :order_by("name")
    local text, args = query:to_sql()
    assert(text == "SELECT name, qty FROM items WHERE (qty > ? AND tag = ?) ORDER BY name")
    assert(args[1] == 0 and args[2] == "fruit")

    local rows = assert(query:run_with(db):query())
    assert(#rows == 1 and rows[1].name == "apple")

    -- builders are immutable: `query` above is unchanged by this
    local all = assert(query:limit(10):offset(0):run_with(db):query())
    assert(#all == 1)

    local updated = assert(b.update("items"):set("qty", b.expr("qty + ?", 1))
        :where({name = "pear"}):run_with(db):exec())
    assert(updated.rows_affected == 1)
    local removed = assert(b.delete("items"):where(b.eq({tag = sql.NULL})):run_with(db):exec())
    assert(removed.rows_affected == 1)
    return #rows
end

return {main = main}
