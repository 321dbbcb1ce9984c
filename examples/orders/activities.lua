-- Activities: everything that reads settings or touches the database runs here.
local sql = require("sql")
local env = require("env")

local SCHEMA = [[
CREATE TABLE IF NOT EXISTS orders (
  id INTEGER PRIMARY KEY,
  customer TEXT NOT NULL,
  total REAL NOT NULL,
  currency TEXT NOT NULL,
  items JSON NOT NULL
)]]

local function record_order(order)
    local currency = env.get("ORDERS_CURRENCY")
    local max_total = tonumber(env.get("ORDERS_MAX_TOTAL"))
    local total = 0
    for _, item in ipairs(order.items) do
        total = total + item.price * (item.qty or 1)
    end
    if total > max_total then
        return nil, errors.new({kind = errors.INVALID, retryable = false,
                                message = ("total %.2f is over the limit of %d"):format(total, max_total)})
    end

    local db, err = sql.get("orders:db")
    if err then return nil, err end
    assert(db:execute(SCHEMA))
    local tx = assert(db:begin())
    local result, err = tx:execute(
        "INSERT INTO orders (customer, total, currency, items) VALUES (?, ?, ?, ?)",
        {order.customer, total, currency, order.items})
    if err then
        tx:rollback()
        return nil, err
    end
    assert(tx:commit())
    return {id = result.last_insert_id, total = total, currency = currency}
end

local function order_count()
    local db = assert(sql.get("orders:db"))
    assert(db:execute(SCHEMA))
    local rows = assert(db:query("SELECT count(*) AS n, coalesce(sum(total), 0) AS sum FROM orders"))
    return {count = rows[1].n, sum = rows[1].sum}
end

return {record_order = record_order, order_count = order_count}
