-- The `sql` module: handles around lua_sql.py, and the query builder (pure Lua).
--
-- DB, Transaction and Statement are small tables around a handle number; Python maps the
-- number to the real object and checks the caller owns it. They cannot be sent to another
-- process (rt.UNSENDABLE). Every database call goes through rt.await: the task parks while
-- the driver works. Except one: a statement of a SQLite transaction that holds its locks
-- runs inline, through a Python function made for its SQL text, and returns at once
-- (docs/decisions.md).

local rt, py = ...
local await, errors = rt.await, rt.errors
local type, setmetatable, getmetatable, select, tostring, ipairs, pairs, error, next, rawget =
  type, setmetatable, getmetatable, select, tostring, ipairs, pairs, error, next, rawget
local unpack = table.unpack
local concat, sort, insert = table.concat, table.sort, table.insert

local sql = {}

sql.type = {POSTGRES = "postgres", MYSQL = "mysql", SQLITE = "sqlite", MSSQL = "mssql",
            ORACLE = "oracle", UNKNOWN = "unknown"}
sql.isolation = {DEFAULT = "default", READ_UNCOMMITTED = "read_uncommitted",
                 READ_COMMITTED = "read_committed", WRITE_COMMITTED = "write_committed",
                 REPEATABLE_READ = "repeatable_read", SERIALIZABLE = "serializable"}
local NULL = py.NULL
sql.NULL = NULL

local function invalid(message)
  return errors.new({kind = errors.INVALID, message = message, retryable = false})
end

-------------------------------------------------------------------------------------------
-- Handles
-------------------------------------------------------------------------------------------

local DB, TX, STMT = {}, {}, {}
local DB_MT = {__index = DB, __name = "sql.db"}
local TX_MT = {__index = TX, __name = "sql.transaction"}
local STMT_MT = {__index = STMT, __name = "sql.statement"}
for mt, name in pairs({[DB_MT] = "sql database", [TX_MT] = "sql transaction",
                       [STMT_MT] = "sql statement"}) do
  rt.UNSENDABLE[mt] = name
  mt.__tostring = function(h) return name .. " " .. tostring(h.id) end
end

local py_query, py_execute, py_prepare = py.query, py.execute, py.prepare

function sql.get(id)
  if id == nil or id == "" then return nil, invalid("sql.get: id is empty") end
  local h, kind = py.get(id)
  if h == nil then return nil, kind end
  return setmetatable({h = h, kind = kind, id = id}, DB_MT)
end

-- Statements of a SQLite transaction that holds its locks run inline. PREPARE maps the
-- transaction to the Python function that makes, per SQL text, the function running that
-- statement at once with its parameters as arguments (sqldb.py, `RunNow`); QUERIES and
-- EXECS keep what it made per SQL text (or false: that text must park, as COMMIT or
-- PRAGMA do), so a repeated statement costs one call of a bound Python function. A
-- statement keeps its SQL in STMT_SQL and its transaction in STMT_TX. All private to
-- this file, so app code cannot reach those functions or point them elsewhere.
local PREPARE = setmetatable({}, {__mode = "k"})
-- (Any other table reads as an empty cache, so a method called on something that is not
-- a transaction parks, and Python says what is wrong.)
local NO_CACHE = setmetatable({}, {__newindex = function() end})
local function no_cache() return NO_CACHE end
local QUERIES = setmetatable({}, {__mode = "k", __index = no_cache})
local EXECS = setmetatable({}, {__mode = "k", __index = no_cache})
local STMT_SQL = setmetatable({}, {__mode = "k"})
local STMT_TX = setmetatable({}, {__mode = "k"})

-- A transaction's cache of runners stays below RUNNERS_MAX texts (SQL built with its
-- values inside is a new text every time): past it, it starts again empty. Its size is
-- kept under the key COUNT, which no SQL text can be.
local RUNNERS_MAX, COUNT = 256, {}
local function new_cache() return {[COUNT] = 0} end

-- The runner of `q` (a Python function, or false: park), made and kept in `tx`'s cache.
local function runner(tx, is_query, q)
  local caches = is_query and QUERIES or EXECS
  local cache, prepare_now = rawget(caches, tx), PREPARE[tx]
  local run = prepare_now ~= nil and prepare_now(is_query, q) or false
  if cache ~= nil and type(q) == "string" then
    if cache[COUNT] >= RUNNERS_MAX then
      cache = new_cache()
      caches[tx] = cache
    end
    cache[q], cache[COUNT] = run, cache[COUNT] + 1
  end
  return run
end

-- A failure of an inline statement: `nil, err`, or raised when the process must fail
-- (it ran past its CPU budget, like Lua code that never yields).
local function failed(err, fatal)
  if fatal then error(err, 0) end
  return nil, err
end

-- `run` called with the parameters as arguments, when `params` is nil or an array 1..n
-- (`#` finds n; `next` after n finds no other key; a hole inside is nil, so NULL, as on
-- the parked path). Anything else (named keys, keys past a hole where `#` stopped, a
-- metatable, not a table) answers false: it takes the parked path, which names what is
-- wrong. An array built out of order (keys in the hash part) may park too: correct, only
-- slower. Up to three parameters are passed without `unpack` (a C call, ~0.05 µs), each
-- count with its own `next` (no instructions to turn n = 0 into the first key, nil).
local function run_with(run, params)
  if params == nil then return run() end
  if type(params) ~= "table" or getmetatable(params) ~= nil then return false end
  local n = #params
  if n == 2 then
    if next(params, 2) == nil then return run(params[1], params[2]) end
  elseif n == 1 then
    if next(params, 1) == nil then return run(params[1]) end
  elseif n == 3 then
    if next(params, 3) == nil then return run(params[1], params[2], params[3]) end
  elseif n == 0 then
    if next(params) == nil then return run() end
  elseif next(params, n) == nil then
    return run(unpack(params, 1, n))
  end
  return false
end

-- Query and execute: inline when the transaction allows it (its runner for `q`), else
-- parked (the handle number says what runs them; Python has a statement's SQL, so `q`
-- is then nil).
local function parked_query(self, q, params) return await(py_query(self.h, q, params)) end
local function parked_execute(self, q, params) return await(py_execute(self.h, q, params)) end

-- A statement answered through its runner `run` (false: it parks), for any handle.
local function query_with(run, self, q, params)
  if run then
    local rows, err, fatal = run_with(run, params)
    if rows then return rows end
    if rows == nil then return failed(err, fatal) end
  end
  return parked_query(self, q, params)
end
-- (An execute's is written out in `tx_execute` and `STMT:execute`, the hot path of bulk
-- inserts: a Lua call less per statement, 0.06-0.08 µs of ~2 with the count hook on.)

local function tx_query(self, q, params)
  local run = QUERIES[self][q]
  if run == nil then run = runner(self, true, q) end
  return query_with(run, self, q, params)
end
local function tx_execute(self, q, params)
  local run = EXECS[self][q]
  if run == nil then run = runner(self, false, q) end
  if run then
    local id, count, fatal = run_with(run, params)
    if id then return {last_insert_id = id, rows_affected = count} end
    if id == nil then return failed(count, fatal) end
  end
  return parked_execute(self, q, params)
end

local function prepare(self, q)
  local h, err = await(py_prepare(self.h, q))
  if h == nil then return nil, err end
  local stmt = setmetatable({h = h, id = q, kind = self.kind}, STMT_MT)
  if getmetatable(self) == TX_MT then STMT_TX[stmt], STMT_SQL[stmt] = self, q end
  return stmt
end
DB.query, DB.execute, DB.prepare = parked_query, parked_execute, prepare
TX.query, TX.execute, TX.prepare = tx_query, tx_execute, prepare

function DB:type() return self.kind end
function DB:begin(options)
  local h, run = await(py.begin(self.h, options))
  if h == nil then return nil, run end
  local tx = setmetatable({h = h, id = self.id, kind = self.kind}, TX_MT)
  PREPARE[tx], QUERIES[tx], EXECS[tx] = run, new_cache(), new_cache()
  return tx
end
function DB:release() return py.release(self.h) end
function DB:stats() return py.stats(self.h) end

function TX:db_type() return py.tx_check(self.h) end
function TX:commit() return await(py.tx_end(self.h, "commit")) end
function TX:rollback() return await(py.tx_end(self.h, "rollback")) end
function TX:savepoint(name) return await(py.tx_savepoint(self.h, "savepoint", name)) end
function TX:rollback_to(name) return await(py.tx_savepoint(self.h, "rollback_to", name)) end
function TX:release(name) return await(py.tx_savepoint(self.h, "release", name)) end

-- A statement prepared on a transaction runs inline when the same SQL sent through the
-- transaction would: it keeps the transaction's runner for its text, found at its first
-- query or execute (false: it parks, as one prepared on a database always does).
local STMT_QUERY = setmetatable({}, {__mode = "k"})
local STMT_EXEC = setmetatable({}, {__mode = "k"})
local function stmt_runner(stmt, is_query)
  local tx, q, run = STMT_TX[stmt], STMT_SQL[stmt], false
  if tx then
    run = (is_query and QUERIES or EXECS)[tx][q]
    if run == nil then run = runner(tx, is_query, q) end
  end
  if is_query then STMT_QUERY[stmt] = run else STMT_EXEC[stmt] = run end
  return run
end
function STMT:query(params)
  local run = STMT_QUERY[self]
  if run == nil then run = stmt_runner(self, true) end
  return query_with(run, self, nil, params)
end
function STMT:execute(params)
  local run = STMT_EXEC[self]
  if run == nil then run = stmt_runner(self, false) end
  if run then
    local id, count, fatal = run_with(run, params)
    if id then return {last_insert_id = id, rows_affected = count} end
    if id == nil then return failed(count, fatal) end
  end
  return parked_execute(self, nil, params)
end
function STMT:close()
  STMT_TX[self], STMT_QUERY[self], STMT_EXEC[self] = nil, false, false
  return py.stmt_close(self.h)
end

-------------------------------------------------------------------------------------------
-- Typed values
-------------------------------------------------------------------------------------------

local py_typed = py.typed
sql.as = {
  int = function(v) return py_typed("int", v) end,
  float = function(v) return py_typed("float", v) end,
  text = function(v)
    if type(v) ~= "string" then v = tostring(v) end
    return py_typed("text", v)
  end,
  binary = function(v) return py_typed("binary", v) end,
  null = function() return NULL end,
}

-------------------------------------------------------------------------------------------
-- The query builder. Builders are immutable: every method returns a new one.
-------------------------------------------------------------------------------------------

local builder = {question = "question", dollar = "dollar", at = "at", colon = "colon"}
builder.default_placeholder = builder.question
sql.builder = builder

local SQLIZER_MT = {__name = "sql.sqlizer"}
local SQLIZER = {}
SQLIZER_MT.__index = SQLIZER

local function is_sqlizer(v) return getmetatable(v) == SQLIZER_MT end

-- A Sqlizer is {render = function() return sql, args end}.
local function sqlizer(render) return setmetatable({render = render}, SQLIZER_MT) end
function SQLIZER:to_sql() return self.render() end

local function append_all(dst, src)
  for i = 1, #src do dst[#dst + 1] = src[i] end
end

-- Varargs as an array where nil becomes sql.NULL (arrays cannot hold nil).
local function values_of(...)
  local n, out = select("#", ...), {}
  for i = 1, n do
    local v = select(i, ...)
    if v == nil then v = NULL end
    out[i] = v
  end
  return out
end

-- A value in a statement: an expression is inlined, anything else is one placeholder.
local function value_sql(v, args)
  if is_sqlizer(v) then
    local s, a = v.render()
    append_all(args, a)
    return s
  end
  args[#args + 1] = v
  return "?"
end

local function sorted_keys(map)
  local keys = {}
  for k in pairs(map) do
    if type(k) ~= "string" then error(invalid("condition keys must be column names"), 0) end
    keys[#keys + 1] = k
  end
  sort(keys)
  return keys
end

local function is_list(v)
  return type(v) == "table" and getmetatable(v) == nil and (#v > 0 or next(v) == nil)
end

-- eq / not_eq: NULL becomes IS (NOT) NULL, a list IN (...).
local function equality(map, negate)
  return sqlizer(function()
    local parts, args = {}, {}
    for _, k in ipairs(sorted_keys(map)) do
      local v = map[k]
      if v == NULL then
        parts[#parts + 1] = k .. (negate and " IS NOT NULL" or " IS NULL")
      elseif is_list(v) then
        local marks = {}
        for i = 1, #v do marks[i] = "?"; args[#args + 1] = v[i] end
        if #v == 0 then
          parts[#parts + 1] = negate and "(1=1)" or "(1=0)"
        else
          parts[#parts + 1] = k .. (negate and " NOT IN (" or " IN (") .. concat(marks, ",") .. ")"
        end
      else
        parts[#parts + 1] = k .. (negate and " <> " or " = ") .. value_sql(v, args)
      end
    end
    return concat(parts, " AND "), args
  end)
end

local function comparison(op)
  return function(map)
    if type(map) ~= "table" then error(invalid("expected a table of column = value"), 2) end
    return sqlizer(function()
      local parts, args = {}, {}
      for _, k in ipairs(sorted_keys(map)) do
        parts[#parts + 1] = k .. " " .. op .. " " .. value_sql(map[k], args)
      end
      return concat(parts, " AND "), args
    end)
  end
end

function builder.expr(s, ...)
  if type(s) ~= "string" then error(invalid("sql.builder.expr expects an SQL string"), 2) end
  local args = values_of(...)
  return sqlizer(function() return s, args end)
end
function builder.eq(map)
  if type(map) ~= "table" then error(invalid("sql.builder.eq expects a table"), 2) end
  return equality(map, false)
end
function builder.not_eq(map)
  if type(map) ~= "table" then error(invalid("sql.builder.not_eq expects a table"), 2) end
  return equality(map, true)
end
builder.lt, builder.lte = comparison("<"), comparison("<=")
builder.gt, builder.gte = comparison(">"), comparison(">=")
builder.like, builder.not_like = comparison("LIKE"), comparison("NOT LIKE")

-- A where/having condition: a Sqlizer, a table (equality), or a string with arguments.
local function condition(c, ...)
  if is_sqlizer(c) then return c end
  if type(c) == "table" then return equality(c, false) end
  if type(c) == "string" then return builder.expr(c, ...) end
  error(invalid("condition must be a string, a table or a sql.builder expression"), 3)
end

local function junction(op)
  return function(conditions)
    if type(conditions) ~= "table" then
      error(invalid("sql.builder.and_/or_ expect an array of conditions"), 2)
    end
    local list = {}
    for i, c in ipairs(conditions) do list[i] = condition(c) end
    return sqlizer(function()
      local parts, args = {}, {}
      for i, c in ipairs(list) do
        local s, a = c.render()
        parts[i] = s
        append_all(args, a)
      end
      if #parts == 0 then return op == " AND " and "(1=1)" or "(1=0)", args end
      return "(" .. concat(parts, op) .. ")", args
    end)
  end
end
builder.and_, builder.or_ = junction(" AND "), junction(" OR ")

-- Placeholders: `?` outside quotes becomes the chosen format (`??` is a literal `?`).
local function placeholders(s, format)
  if format == nil or format == "question" then return (s:gsub("%?%?", "?")) end
  local out, n, i, len = {}, 0, 1, #s
  local quote = nil
  while i <= len do
    local ch = s:sub(i, i)
    if quote then
      out[#out + 1] = ch
      if ch == quote then quote = nil end
    elseif ch == "'" or ch == '"' then
      quote = ch
      out[#out + 1] = ch
    elseif ch == "?" then
      if s:sub(i + 1, i + 1) == "?" then
        out[#out + 1] = "?"
        i = i + 1
      else
        n = n + 1
        if format == "dollar" then out[#out + 1] = "$" .. n
        elseif format == "at" then out[#out + 1] = "@p" .. n
        else out[#out + 1] = ":" .. n end
      end
    else
      out[#out + 1] = ch
    end
    i = i + 1
  end
  return concat(out)
end

-- Builders: `b.s.kind` says which; list fields are copied on change.
local B = {}
local B_MT = {__index = B, __name = "sql.builder"}

-- A builder's state lives in `b.s`, apart from its methods (`columns`, `limit`... are both).
local function new_builder(kind, fields)
  fields.kind = kind
  return setmetatable({s = fields}, B_MT)
end

local function derive(b, key, value)
  local n = {}
  for k, v in pairs(b.s) do n[k] = v end
  n[key] = value
  return setmetatable({s = n}, B_MT)
end

local function push(b, key, item)
  local list = {}
  for i, v in ipairs(b.s[key] or {}) do list[i] = v end
  list[#list + 1] = item
  return derive(b, key, list)
end

local function allow(b, method, ...)
  for _, k in ipairs({...}) do if b.s.kind == k then return end end
  error(invalid(method .. " is not available on a " .. b.s.kind .. " builder"), 3)
end

local function strings(method, ...)
  local out = {}
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    if type(s) ~= "string" then error(invalid(method .. " expects strings"), 3) end
    out[i] = s
  end
  return out
end

function builder.select(...) return new_builder("select", {columns = strings("select", ...)}) end
function builder.insert(t) return new_builder("insert", {table = t}) end
function builder.update(t) return new_builder("update", {table = t}) end
function builder.delete(t) return new_builder("delete", {table = t}) end

function B:from(t)
  if self.s.kind == "update" then return derive(self, "from_table", t) end
  if self.s.kind == "delete" then return derive(self, "table", t) end
  allow(self, "from", "select")
  return derive(self, "table", t)
end
function B:into(t) allow(self, "into", "insert"); return derive(self, "table", t) end
function B:table(t) allow(self, "table", "update"); return derive(self, "table", t) end

local function join(kind)
  return function(self, clause, ...)
    allow(self, "join", "select")
    return push(self, "joins", {kind .. clause, values_of(...)})
  end
end
B.join, B.left_join = join("JOIN "), join("LEFT JOIN ")
B.right_join, B.inner_join = join("RIGHT JOIN "), join("INNER JOIN ")

function B:where(c, ...)
  allow(self, "where", "select", "update", "delete")
  return push(self, "wheres", condition(c, ...))
end
function B:having(c, ...)
  allow(self, "having", "select")
  return push(self, "havings", condition(c, ...))
end
function B:order_by(...)
  local list = {}
  for i, v in ipairs(self.s.orders or {}) do list[i] = v end
  append_all(list, strings("order_by", ...))
  return derive(self, "orders", list)
end
function B:group_by(...)
  allow(self, "group_by", "select")
  local list = {}
  for i, v in ipairs(self.s.groups or {}) do list[i] = v end
  append_all(list, strings("group_by", ...))
  return derive(self, "groups", list)
end
local function count(method)
  return function(self, n)
    if math.type(n) ~= "integer" or n < 0 then
      error(invalid(method .. " expects a non-negative integer"), 2)
    end
    return derive(self, method, n)
  end
end
B.limit, B.offset = count("limit"), count("offset")
function B:columns(...)
  local list = {}
  for i, v in ipairs(self.s.columns or {}) do list[i] = v end
  append_all(list, strings("columns", ...))
  return derive(self, "columns", list)
end
function B:distinct() allow(self, "distinct", "select"); return derive(self, "distinct", true) end
function B:suffix(s, ...) return push(self, "suffixes", {s, values_of(...)}) end
function B:prefix(s, ...) return push(self, "prefixes", {s, values_of(...)}) end
function B:options(...) return derive(self, "options", strings("options", ...)) end
function B:values(...)
  allow(self, "values", "insert")
  return push(self, "rows", values_of(...))
end
function B:set(column, value)
  allow(self, "set", "update")
  if type(column) ~= "string" then error(invalid("set expects a column name"), 2) end
  if value == nil then value = NULL end
  return push(self, "sets", {column, value})
end
function B:set_map(map)
  if type(map) ~= "table" then error(invalid("set_map expects a table"), 2) end
  local keys = sorted_keys(map)
  if self.s.kind == "insert" then
    local row = {}
    for i, k in ipairs(keys) do row[i] = map[k] end
    return derive(derive(self, "columns", keys), "rows", {row})
  end
  allow(self, "set_map", "update")
  local b = self
  for _, k in ipairs(keys) do b = b:set(k, map[k]) end
  return b
end
function B:select(query)
  allow(self, "select", "insert")
  if getmetatable(query) ~= B_MT or query.s.kind ~= "select" then
    error(invalid("insert:select expects a select builder"), 2)
  end
  return derive(self, "select_query", query)
end
function B:from_select(query, alias)
  allow(self, "from_select", "update")
  if getmetatable(query) ~= B_MT or query.s.kind ~= "select" or type(alias) ~= "string" then
    error(invalid("from_select expects a select builder and an alias"), 2)
  end
  return derive(self, "from_query", {query, alias})
end
function B:placeholder_format(format)
  if format ~= "question" and format ~= "dollar" and format ~= "at" and format ~= "colon" then
    error(invalid("unknown placeholder format (use sql.builder.question/dollar/at/colon)"), 2)
  end
  return derive(self, "format", format)
end

-- Rendering (with `?` placeholders; to_sql converts them at the end).
local render

local function clause_list(parts, args, list, keyword, sep)
  if not list or #list == 0 then return end
  local rendered = {}
  for i, c in ipairs(list) do
    local s, a = c.render()
    rendered[i] = s
    append_all(args, a)
  end
  parts[#parts + 1] = keyword .. concat(rendered, sep)
end

local function raw_list(parts, args, list)
  for _, item in ipairs(list or {}) do
    parts[#parts + 1] = item[1]
    append_all(args, item[2])
  end
end

local function tail(b, parts, args)
  if b.s.orders and #b.s.orders > 0 then parts[#parts + 1] = "ORDER BY " .. concat(b.s.orders, ", ") end
  if b.s.limit then parts[#parts + 1] = "LIMIT " .. b.s.limit end
  if b.s.offset then parts[#parts + 1] = "OFFSET " .. b.s.offset end
  raw_list(parts, args, b.s.suffixes)
end

local function need_table(b)
  if type(b.s.table) ~= "string" or b.s.table == "" then
    error(invalid(b.s.kind .. " statements must specify a table"), 0)
  end
end

render = function(b)
  local parts, args = {}, {}
  raw_list(parts, args, b.s.prefixes)
  if b.s.kind == "select" then
    if not b.s.columns or #b.s.columns == 0 then
      error(invalid("select statements must have at least one result column"), 0)
    end
    parts[#parts + 1] = (b.s.distinct and "SELECT DISTINCT " or "SELECT ") .. concat(b.s.columns, ", ")
    if b.s.table then parts[#parts + 1] = "FROM " .. b.s.table end
    raw_list(parts, args, b.s.joins)
    clause_list(parts, args, b.s.wheres, "WHERE ", " AND ")
    if b.s.groups and #b.s.groups > 0 then parts[#parts + 1] = "GROUP BY " .. concat(b.s.groups, ", ") end
    clause_list(parts, args, b.s.havings, "HAVING ", " AND ")
    tail(b, parts, args)
  elseif b.s.kind == "insert" then
    need_table(b)
    local head = "INSERT "
    if b.s.options then head = head .. concat(b.s.options, " ") .. " " end
    parts[#parts + 1] = head .. "INTO " .. b.s.table
    if b.s.columns and #b.s.columns > 0 then parts[#parts + 1] = "(" .. concat(b.s.columns, ",") .. ")" end
    if b.s.select_query then
      local s, a = render(b.s.select_query)
      parts[#parts + 1] = s
      append_all(args, a)
    else
      if not b.s.rows or #b.s.rows == 0 then
        error(invalid("insert statements must have at least one set of values or select clause"), 0)
      end
      local rows = {}
      for i, row in ipairs(b.s.rows) do
        local marks = {}
        for j, v in ipairs(row) do marks[j] = value_sql(v, args) end
        rows[i] = "(" .. concat(marks, ",") .. ")"
      end
      parts[#parts + 1] = "VALUES " .. concat(rows, ",")
    end
    raw_list(parts, args, b.s.suffixes)
  elseif b.s.kind == "update" then
    need_table(b)
    if not b.s.sets or #b.s.sets == 0 then
      error(invalid("update statements must have at least one Set clause"), 0)
    end
    parts[#parts + 1] = "UPDATE " .. b.s.table
    local sets = {}
    for i, pair in ipairs(b.s.sets) do sets[i] = pair[1] .. " = " .. value_sql(pair[2], args) end
    parts[#parts + 1] = "SET " .. concat(sets, ", ")
    if b.s.from_query then
      local s, a = render(b.s.from_query[1])
      parts[#parts + 1] = "FROM (" .. s .. ") AS " .. b.s.from_query[2]
      append_all(args, a)
    elseif b.s.from_table then
      parts[#parts + 1] = "FROM " .. b.s.from_table
    end
    clause_list(parts, args, b.s.wheres, "WHERE ", " AND ")
    tail(b, parts, args)
  else -- delete
    need_table(b)
    parts[#parts + 1] = "DELETE FROM " .. b.s.table
    clause_list(parts, args, b.s.wheres, "WHERE ", " AND ")
    tail(b, parts, args)
  end
  return concat(parts, " "), args
end

local function to_sql(b, format)
  local ok, s, args = pcall(render, b)
  if not ok then
    if errors.is(s, errors.INVALID) then return nil, s end
    return nil, invalid(tostring(s))
  end
  return placeholders(s, format or b.s.format), args
end
function B:to_sql() return to_sql(self) end

-- Executors: a builder bound to a DB or transaction. PostgreSQL takes $n placeholders, so
-- a builder with no explicit format renders them for it.
local EXEC = {}
local EXEC_MT = {__index = EXEC, __name = "sql.executor"}
rt.UNSENDABLE[EXEC_MT] = "sql executor"

function B:run_with(target)
  local mt = getmetatable(target)
  if mt ~= DB_MT and mt ~= TX_MT then
    return nil, invalid("run_with expects a database or transaction from sql.get / db:begin")
  end
  local format = self.s.format
  if format == nil and target.kind == "postgres" then format = "dollar" end
  local s, args = to_sql(self, format)
  if s == nil then return nil, args end
  return setmetatable({target = target, sql = s, args = args}, EXEC_MT)
end
function EXEC:query() return self.target:query(self.sql, self.args) end
function EXEC:exec() return self.target:execute(self.sql, self.args) end
function EXEC:to_sql() return self.sql, self.args end

return sql
