local sql = require("sql")

local function main()
    local db, err = sql.get("tour:db")
    if err then return nil, err end

    assert(db:execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, profile JSON)"))

    -- bound parameters: never build SQL from values
    local result = assert(db:execute(
        "INSERT INTO users (name, score, profile) VALUES (?, ?, ?)",
        {"alice", 91.5, {langs = {"lua", "sql"}}}))
    assert(result.last_insert_id == 1 and result.rows_affected == 1)

    -- a transaction: all or nothing
    local tx = assert(db:begin())
    assert(tx:execute("INSERT INTO users (name, score) VALUES (?, ?)", {"bob", 78}))
    assert(tx:savepoint("before_carol"))
    assert(tx:execute("INSERT INTO users (name) VALUES (?)", {"carol"}))
    assert(tx:rollback_to("before_carol"))   -- carol is gone, bob stays
    assert(tx:commit())

    -- a prepared statement, run many times
    local stmt = assert(db:prepare("SELECT name, score, profile FROM users WHERE score > ? ORDER BY name"))
    local rows = assert(stmt:query({50}))
    stmt:close()
    assert(#rows == 2 and rows[1].name == "alice")
    assert(rows[1].profile.langs[2] == "sql")   -- JSON columns come back as tables
    assert(rows[2].profile == nil)              -- NULL is nil
    assert(math.type(rows[2].score) == "float")

    -- errors are values with a kind
    local _, dup = db:execute("INSERT INTO users (name) VALUES (?)", {"alice"})
    assert(dup:kind() == errors.CONFLICT)
    local _, bad = db:query("SELEC name FROM users")
    assert(bad:kind() == errors.INVALID)
    return #rows
end

return {main = main}
