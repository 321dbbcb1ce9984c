# ruff: noqa: E501  (Lua sources in strings)
"""The `sql` module on SQLite: queries, types, transactions, statements, errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.lua_harness import run_lua

pytestmark = pytest.mark.anyio


def db_entry(file: str = "app.db", **extra):
    return {"name": "db", "kind": "db.sql.sqlite", "file": file, **extra}


async def run_sql(tmp_path: Path, main: str, *args, entries=None, modules=("sql", "json"), **app):
    return await run_lua(
        tmp_path,
        main,
        *args,
        modules=list(modules),
        entries=entries if entries is not None else [db_entry()],
        **app,
    )


async def test_query_execute_and_types(tmp_path):
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local db = assert(sql.get("test:db"))
          assert(db:type() == sql.type.SQLITE)
          assert(db:execute([[CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL,
                              data BLOB, doc JSON, ok BOOLEAN, note TEXT)]]))
          local r = assert(db:execute("INSERT INTO t (name, score, data, doc, ok, note) VALUES (?, ?, ?, ?, ?, ?)",
                                      {"alice", 1.5, sql.as.binary("\\0\\1\\2"), {a = {1, 2}}, true, sql.NULL}))
          assert(r.last_insert_id == 1 and r.rows_affected == 1)
          local rows = assert(db:query("SELECT * FROM t WHERE name = ?", {"alice"}))
          local row = rows[1]
          assert(math.type(row.id) == "integer", "integers stay integers")
          assert(row.score == 1.5 and row.data == "\\0\\1\\2")
          assert(row.doc.a[2] == 2, "JSON columns decode to tables")
          assert(row.ok == true, "BOOLEAN columns are booleans")
          assert(row.note == nil, "NULL is nil")
          local n = assert(db:query("SELECT count(*) AS n FROM t"))[1].n
          return {n = n, id = row.id}
        end
        """,
    )
    assert event.error is None, event.error
    assert event.value == {"n": 1, "id": 1}
    with sqlite3.connect(tmp_path / "app" / "app.db") as check:
        assert check.execute("SELECT name, doc FROM t").fetchall() == [("alice", '{"a":[1,2]}')]


async def test_transaction_commit_rollback_savepoint(tmp_path):
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local db = assert(sql.get("test:db"))
          db:execute("CREATE TABLE u (name TEXT)")
          local tx = assert(db:begin())
          assert(tx:execute("INSERT INTO u VALUES (?)", {"alice"}))
          assert(tx:savepoint("sp1"))
          assert(tx:execute("INSERT INTO u VALUES (?)", {"bob"}))
          assert(tx:rollback_to("sp1"))
          assert(tx:commit())
          local _, err = tx:query("SELECT 1")
          assert(err and err:kind() == errors.INVALID, "a committed transaction refuses queries")
          local _, err2 = tx:commit()
          assert(err2:kind() == errors.INVALID)
          local tx2 = assert(db:begin({isolation = sql.isolation.SERIALIZABLE}))
          tx2:execute("INSERT INTO u VALUES ('carol')")
          assert(tx2:rollback())
          local _, err3 = tx2:execute("INSERT INTO u VALUES ('dave')")
          assert(err3:kind() == errors.INVALID and tostring(err3):find("rolled back"))
          local _, err4 = tx2:savepoint("bad name")
          local names = {}
          for _, r in ipairs(db:query("SELECT name FROM u ORDER BY name")) do names[#names + 1] = r.name end
          return names
        end
        """,
    )
    assert event.error is None, event.error
    assert event.value == ["alice"]


async def test_prepared_statements(tmp_path):
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local db = assert(sql.get("test:db"))
          db:execute("CREATE TABLE logs (i INTEGER, msg TEXT)")
          local stmt = assert(db:prepare("INSERT INTO logs VALUES (?, ?)"))
          for i = 1, 5 do assert(stmt:execute({i, "m" .. i})) end
          assert(stmt:close())
          local _, err = stmt:execute({6, "x"})
          assert(err:kind() == errors.INVALID)
          local q = assert(db:prepare("SELECT msg FROM logs WHERE i > ? ORDER BY i"))
          local rows = assert(q:query({3}))
          local _, bad = db:prepare("SELEC nonsense")
          assert(bad:kind() == errors.INVALID, "prepare checks the syntax")
          local _, missing = db:prepare("SELECT * FROM nope WHERE a = ?")
          assert(missing:kind() == errors.INVALID)
          return {rows[1].msg, rows[2].msg}
        end
        """,
    )
    assert event.error is None, event.error
    assert event.value == ["m4", "m5"]


async def test_bad_input_errors(tmp_path):
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local out = {}
          local _, e1 = sql.get("test:nope")
          out.unknown = e1:kind()
          local _, e0 = sql.get("")
          out.empty = e0:kind()
          local db = assert(sql.get("test:db"))
          local _, e2 = db:query("SELEC 1")
          out.syntax = e2:kind()
          out.syntax_msg = e2:message()
          db:execute("CREATE TABLE k (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)")
          db:execute("INSERT INTO k (v) VALUES ('a')")
          local _, e3 = db:execute("INSERT INTO k (v) VALUES (?)", {"a"})
          out.constraint = e3:kind()
          local _, e4 = db:execute("INSERT INTO k (v) VALUES (?)", {"a", "b"})
          out.count = e4:kind()
          out.count_msg = e4:message()
          local _, e5 = db:query("SELECT 1", "not a table")
          out.params = e5:kind()
          local _, e6 = db:begin({isolation = "whatever"})
          out.isolation = e6:kind()
          local _, e7 = db:query("SELECT ?", {function() end})
          out.fn = e7:kind()
          return out
        end
        """,
    )
    assert event.error is None, event.error
    out = event.value
    assert out["unknown"] == "NotFound" and out["empty"] == "Invalid"
    assert out["syntax"] == "Invalid" and "syntax error" in out["syntax_msg"]
    assert out["constraint"] == "Conflict"
    assert out["count"] == "Invalid" and "number of" in out["count_msg"]
    assert out["params"] == out["isolation"] == out["fn"] == "Invalid"


async def test_exit_with_open_transaction_leaves_db_unchanged(tmp_path):
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        local function child()
          local db = assert(sql.get("test:db"))
          local tx = assert(db:begin())
          assert(tx:execute("INSERT INTO t VALUES ('lost')"))
          error("crash with the transaction open")
        end
        local function main()
          local db = assert(sql.get("test:db"))
          db:execute("CREATE TABLE t (v TEXT)")
          local pid = process.spawn_monitored("test:child", "test:processes")
          local ev = process.events():receive()
          local rows = db:query("SELECT count(*) AS n FROM t")
          -- the database is usable again at once (the connection came back)
          local tx = assert(db:begin())
          tx:execute("INSERT INTO t VALUES ('kept')")
          tx:commit()
          return {n = rows[1].n, after = db:query("SELECT v FROM t")[1].v}
        end
        return {main = main, child = child}
        """,
        entries=[
            db_entry(pool={"max_open": 1}),
            {
                "name": "child",
                "kind": "process.lua",
                "source": "file://main.lua",
                "method": "child",
                "modules": ["sql"],
            },
        ],
    )
    assert event.error is None, event.error
    assert event.value == {"n": 0, "after": "kept"}


async def test_memory_database_and_self_deadlock(tmp_path):
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local db = assert(sql.get("test:mem"))
          db:execute("CREATE TABLE t (v INTEGER)")
          local tx = assert(db:begin())
          local _, err = db:query("SELECT 1")
          assert(err and err:kind() == errors.INVALID, tostring(err))
          tx:execute("INSERT INTO t VALUES (1)")
          tx:commit()
          local stats = db:stats()
          return {n = db:query("SELECT count(*) AS n FROM t")[1].n, max = stats.max_open_connections,
                  msg = err:message()}
        end
        """,
        entries=[{"name": "mem", "kind": "db.sql.sqlite", "file": ":memory:"}],
    )
    assert event.error is None, event.error
    assert event.value["n"] == 1 and event.value["max"] == 1
    assert "held by this process" in event.value["msg"]


async def test_pool_size_and_acquire_timeout(tmp_path):
    """Two connections: two open transactions take both; a third caller waits, gives up
    after acquire_timeout with Unavailable, and gets a connection once one is freed."""
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        local time = require("time")
        local function holder(ms)
          local db = assert(sql.get("test:db"))
          -- read-only: two writers would queue for SQLite's one write lock at begin
          local tx = assert(db:begin({read_only = true}))
          process.send(process.registry.lookup("test:pool_user"), "holding", true)
          time.sleep(ms .. "ms")
          assert(tx:commit())
        end
        local function main()
          process.registry.register("test:pool_user")
          local db = assert(sql.get("test:db"))
          db:execute("CREATE TABLE t (v INTEGER)")
          process.spawn("test:holder", "test:processes", 400)
          process.spawn("test:holder", "test:processes", 400)
          process.inbox():receive()
          process.inbox():receive()
          local stats = db:stats()
          local _, err = db:query("SELECT 1")            -- waits 200 ms, then gives up
          time.sleep("400ms")
          local rows = assert(db:query("SELECT 1 AS one")) -- the holders are done
          return {max = stats.max_open_connections, in_use = stats.in_use,
                  kind = err:kind(), retryable = err:retryable(), msg = err:message(),
                  one = rows[1].one, waits = db:stats().wait_count}
        end
        return {main = main, holder = holder}
        """,
        entries=[
            db_entry(pool={"max_open": 2, "acquire_timeout": "200ms"}),
            {
                "name": "holder",
                "kind": "process.lua",
                "source": "file://main.lua",
                "method": "holder",
                "modules": ["sql", "time"],
            },
        ],
        modules=["sql", "time"],
    )
    assert event.error is None, event.error
    v = event.value
    assert v["max"] == 2 and v["in_use"] == 2 and v["waits"] >= 1
    assert (
        v["kind"] == "Unavailable" and v["retryable"] is True and "no connection free" in v["msg"]
    )
    assert v["one"] == 1


async def test_read_only_transaction_and_typed_values(tmp_path):
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local out = {}
          local db = assert(sql.get("test:db"))
          db:execute("CREATE TABLE t (i INTEGER, f REAL, s TEXT, b BLOB)")
          local ro = assert(db:begin({read_only = true}))
          local _, e1 = ro:execute("INSERT INTO t (i) VALUES (1)")
          out.ro = e1 and e1:kind()
          assert(ro:rollback())
          -- the connection writes again after a read-only transaction
          assert(db:execute("INSERT INTO t VALUES (?, ?, ?, ?)",
                            {sql.as.int(2.0), sql.as.float(3), sql.as.text(42), sql.as.binary("x")}))
          local row = db:query("SELECT typeof(i) AS ti, typeof(f) AS tf, typeof(s) AS ts, typeof(b) AS tb FROM t")[1]
          out.types = row.ti .. "," .. row.tf .. "," .. row.ts .. "," .. row.tb
          local _, e2 = sql.as.int(1.5)
          out.frac = e2:kind()
          local _, e3 = sql.as.float("x")
          out.notnum = e3:kind()
          return out
        end
        """,
    )
    assert event.error is None, event.error
    v = event.value
    assert v["ro"] == "PermissionDenied"
    assert v["types"] == "integer,real,text,blob"
    assert v["notnum"] == v["frac"] == "Invalid"


async def test_a_slow_query_does_not_block_the_event_loop(tmp_path):
    """While one task waits for a slow query, timers fire and other tasks run."""
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        local time = require("time")
        return function()
          local db = assert(sql.get("test:db"))
          local ticks, done = 0, false
          coroutine.spawn(function()
            while not done do time.sleep("10ms"); ticks = ticks + 1 end
          end)
          local started = time.now()
          local rows = assert(db:query([[WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL
              SELECT x + 1 FROM c WHERE x < 2000000) SELECT count(*) AS n FROM c]]))
          done = true
          return {n = rows[1].n, ticks = ticks, ms = time.now():sub(started):milliseconds()}
        end
        """,
        modules=["sql", "time"],
    )
    assert event.error is None, event.error
    v = event.value
    assert v["n"] == 2_000_000, v
    assert v["ms"] >= 100, v  # the query took long enough to matter
    assert v["ticks"] >= v["ms"] // 10 // 4, v  # the ticker kept running meanwhile


async def test_one_statement_per_sql_text(tmp_path):
    """A text with a second statement after its first is refused, on every path (the
    database's, a transaction's inline runner, prepare), before any of it runs: the
    driver would run them all, so `...; COMMIT` would end a transaction behind its back.
    A trailing semicolon or comment is still one statement."""
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local out = {}
          local db = assert(sql.get("test:db"))
          assert(db:execute("CREATE TABLE t (v)"))
          local _, e1 = db:execute("INSERT INTO t VALUES (1); DROP TABLE t")
          out.db_execute, out.msg = e1 and e1:kind(), e1 and e1:message()
          local _, e2 = db:query("SELECT 1 AS a; SELECT 2 AS b")
          out.db_query = e2 and e2:kind()
          local _, e3 = db:prepare("SELECT 1; DELETE FROM t")
          out.db_prepare = e3 and e3:kind()
          out.trailing = assert(db:query("SELECT 1 AS one; -- done\\n"))[1].one
          local tx = assert(db:begin())
          assert(tx:execute("INSERT INTO t VALUES (?)", {2}))
          local _, e4 = tx:execute("INSERT INTO t VALUES (3); COMMIT")
          out.tx_execute = e4 and e4:kind()
          local _, e5 = tx:query("SELECT 1; COMMIT")
          out.tx_query = e5 and e5:kind()
          local _, e6 = tx:prepare("SELECT 1;\\n COMMIT")
          out.tx_prepare = e6 and e6:kind()
          assert(tx:rollback())  -- still open: none of it committed
          out.n = assert(db:query("SELECT count(*) AS n FROM t"))[1].n
          return out
        end
        """,
    )
    assert event.error is None, event.error
    v = event.value
    assert v["db_execute"] == v["db_query"] == v["db_prepare"] == "Invalid", v
    assert v["tx_execute"] == v["tx_query"] == v["tx_prepare"] == "Invalid", v
    assert "one SQL statement at a time" in v["msg"]
    assert v["trailing"] == 1 and v["n"] == 0


async def test_rows_affected_counts_only_the_statement_itself(tmp_path):
    """`rows_affected` is the rows an INSERT, UPDATE, DELETE (or a WITH that writes)
    changed, and 0 for anything else, right after DML too (SQLite's own count keeps the
    last DML statement's through a CREATE or a SELECT), parked and inline alike."""
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local db = assert(sql.get("test:db"))
          local counts = {}
          local function count(r) counts[#counts + 1] = assert(r).rows_affected end
          count(db:execute("CREATE TABLE t (v)"))
          count(db:execute("INSERT INTO t VALUES (1), (2), (3)"))
          count(db:execute("CREATE INDEX t_v ON t (v)"))
          count(db:execute("SELECT * FROM t"))
          local tx = assert(db:begin())
          count(tx:execute("UPDATE t SET v = v + 10 WHERE v >= ?", {2}))
          count(tx:execute("CREATE TABLE u (x)"))
          count(tx:execute("WITH s(x) AS (VALUES (7), (8)) INSERT INTO u SELECT x FROM s"))
          count(tx:execute("SELECT count(*) FROM t"))
          count(tx:execute("INSERT INTO u VALUES (9) RETURNING x"))
          count(tx:execute("DELETE FROM u -- all of them"))
          assert(tx:commit())
          return counts
        end
        """,
    )
    assert event.error is None, event.error
    assert event.value == [0, 3, 0, 0, 2, 0, 2, 0, 1, 3]


async def test_json_and_boolean_columns_by_declared_type(tmp_path):
    """Columns declared JSON/JSONB (any case) decode, BOOLEAN/BOOL become booleans, NULL
    stays nil, through an alias too, on the database's path and a transaction's."""
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local db = assert(sql.get("test:db"))
          assert(db:execute("CREATE TABLE j (a JSON, b BOOLEAN, c json, d bool, e TEXT)"))
          assert(db:execute([[INSERT INTO j VALUES ('{"x": 1}', 0, 5, '0', '[1]'),
                                                   (NULL, 1, '[2]', 1, NULL)]]))
          local function read(target)
            local rows = assert(target:query("SELECT a, b AS flag, c, d, e FROM j ORDER BY rowid"))
            local r1, r2 = rows[1], rows[2]
            return {r1.a.x, r1.flag, r1.c, r1.d, r1.e, r2.a == nil, r2.flag, r2.c[1], r2.d, r2.e == nil}
          end
          local parked = read(db)
          local tx = assert(db:begin())
          local inline = read(tx)
          assert(tx:commit())
          return {parked = parked, inline = inline}
        end
        """,
    )
    assert event.error is None, event.error
    expected = [1, False, 5, False, "[1]", True, True, 2, True, True]
    assert event.value == {"parked": expected, "inline": expected}


async def test_a_database_that_cannot_be_opened_is_unavailable(tmp_path):
    """A file SQLite cannot open (here: its directory does not exist) fails each call
    `Unavailable`, retryable, naming the file; the process goes on."""
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local db = assert(sql.get("test:db"))
          local _, err = db:query("SELECT 1")
          local _, again = db:begin()
          return {kind = err:kind(), retryable = err:retryable(), msg = err:message(),
                  again = again:kind()}
        end
        """,
        entries=[db_entry("no/such/dir/app.db")],
    )
    assert event.error is None, event.error
    v = event.value
    assert v["kind"] == v["again"] == "Unavailable" and v["retryable"] is True, v
    assert "app.db" in v["msg"], v
