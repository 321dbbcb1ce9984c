# ruff: noqa: E501  (Lua sources in strings)
"""Statements of a SQLite transaction run inline (docs/decisions.md, "SQL statements of a
transaction run inline"): they answer without parking, waiting for a lock happens only at
`begin` (on the connection's thread), and errors, the CPU budget and an exit with the
transaction open behave as on the parked path."""

from __future__ import annotations

import sqlite3

import pytest

from data_modules.bridge import Bridge
from tests.data.test_sqlite import db_entry, run_sql

pytestmark = pytest.mark.anyio

CHILD = {"kind": "process.lua", "source": "file://main.lua", "modules": ["sql", "time"]}


@pytest.mark.parametrize(
    ("journal", "parks"),
    [("WAL", False), ("DELETE", True)],
    ids=["wal-inline", "rollback-journal-parks"],
)
async def test_statements_of_a_transaction_run_inline_with_wal(tmp_path, journal, parks):
    """A task spawned before the statements cannot run until the main task yields. With
    WAL (the default) it has not run after 200 statements: they answered without parking.
    With a rollback journal a writer may need the exclusive lock mid-transaction (to spill
    its cache), so statements park and the task runs at the first one."""
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local db = assert(sql.get("test:db"))
          assert(db:execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
          local tx = assert(db:begin())
          local stmt = assert(tx:prepare("INSERT INTO t (v) VALUES (?)"))  -- parks
          local ran = false
          coroutine.spawn(function() ran = true end)
          local last
          for i = 1, 100 do
            last = assert(tx:execute("INSERT INTO t (v) VALUES (?)", {"a" .. i}))
            assert(stmt:execute({"b" .. i}))
          end
          local rows = assert(tx:query("SELECT count(*) AS n, max(id) AS top FROM t"))
          local before_commit = ran
          assert(tx:commit())
          return {ran_during = before_commit, ran_after = ran, n = rows[1].n,
                  top = rows[1].top, last_id = last.last_insert_id,
                  affected = last.rows_affected}
        end
        """,
        entries=[db_entry(options={"journal_mode": journal})],
    )
    assert event.error is None, event.error
    v = event.value
    assert v["ran_during"] is parks and v["ran_after"] is True
    assert v["n"] == 200 and v["top"] == 200
    assert v["last_id"] == 199 and v["affected"] == 1
    with sqlite3.connect(tmp_path / "app" / "app.db") as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == journal.lower()


async def test_a_writer_waiting_for_the_lock_does_not_block_the_loop(tmp_path):
    """Another connection holds the write lock for 300 ms: `begin` waits for it on the
    connection's thread while a timer of the same process keeps firing."""
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        local time = require("time")
        local function holder()
          local db = assert(sql.get("test:db"))
          local tx = assert(db:begin())
          assert(tx:execute("INSERT INTO t VALUES (?)", {"holder"}))
          process.send(process.registry.lookup("test:waiter"), "locked", true)
          time.sleep("300ms")
          assert(tx:commit())
        end
        local function main()
          process.registry.register("test:waiter")
          local db = assert(sql.get("test:db"))
          assert(db:execute("CREATE TABLE t (v TEXT)"))
          process.spawn("test:holder", "test:processes")
          process.inbox():receive()
          local ticks, done = 0, false
          coroutine.spawn(function()
            while not done do time.sleep("10ms"); ticks = ticks + 1 end
          end)
          local started = time.now()
          local tx = assert(db:begin())
          local waited = time.now():sub(started):milliseconds()
          done = true
          assert(tx:execute("INSERT INTO t VALUES (?)", {"waiter"}))
          assert(tx:commit())
          local names = {}
          for _, r in ipairs(db:query("SELECT v FROM t ORDER BY rowid")) do names[#names + 1] = r.v end
          return {waited = waited, ticks = ticks, names = names}
        end
        return {main = main, holder = holder}
        """,
        entries=[db_entry(), {"name": "holder", "method": "holder", **CHILD}],
        modules=["sql", "time"],
    )
    assert event.error is None, event.error
    v = event.value
    assert v["names"] == ["holder", "waiter"]
    assert v["waited"] >= 150, v  # begin waited for the holder's commit
    assert v["ticks"] >= v["waited"] // 10 // 4, v  # and the timer kept firing meanwhile


async def test_errors_of_inline_statements(tmp_path):
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local out = {}
          local db = assert(sql.get("test:db"))
          assert(db:execute("CREATE TABLE k (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE, n INTEGER)"))
          local tx = assert(db:begin())
          assert(tx:execute("INSERT INTO k (v) VALUES (?)", {"a"}))
          local _, e1 = tx:query("SELEC 1")
          out.syntax, out.syntax_msg = e1:kind(), e1:message()
          local _, e2 = tx:execute("INSERT INTO k (v) VALUES (?)", {"a"})
          out.constraint = e2:kind()
          local _, e3 = tx:execute("INSERT INTO k (v) VALUES (?)", {"b", "c"})
          out.count, out.count_msg = e3:kind(), e3:message()
          local _, e4 = tx:execute("INSERT INTO k (v) VALUES (?)", {function() end})
          out.fn = e4:kind()
          local _, e5 = tx:execute("INSERT INTO k (v) VALUES (?)", {v = "named"})
          out.named = e5:kind()
          local _, e6 = tx:execute("INSERT INTO k (v) VALUES (?)", "not a table")
          out.params = e6:kind()
          -- a named key beside an array of each length the runner call is written for
          out.mixed = {}
          for i, p in ipairs({{"a", v = 1}, {"a", "b", v = 1}, {"a", "b", "c", v = 1},
                              {"a", "b", "c", "d", v = 1}}) do
            local _, e = tx:execute("INSERT INTO k (v) VALUES (?)", p)
            out.mixed[i] = e:kind() == "Invalid" and e:message():find("named") ~= nil
          end
          -- an array whose keys sit in the hash part (visited 2, 1) is an array; a hole
          -- is NULL, as on the parked path
          assert(tx:execute("INSERT INTO k (v, n) VALUES (?, ?)", {[2] = 7, [1] = "backwards"}))
          local _, e7 = tx:execute("INSERT INTO k (v, n) VALUES (?, ?)", {nil, 1})
          out.null = e7:kind()
          -- the transaction survived every one of those errors
          assert(tx:commit())
          local _, e8 = tx:execute("INSERT INTO k (v) VALUES (?)", {"late"})
          out.committed, out.committed_msg = e8:kind(), e8:message()
          local _, e9 = tx:query("SELECT 1")
          out.committed_query = e9:kind()
          local names = {}
          for _, r in ipairs(db:query("SELECT v FROM k ORDER BY id")) do names[#names + 1] = r.v end
          out.names = names
          return out
        end
        """,
    )
    assert event.error is None, event.error
    v = event.value
    assert v["syntax"] == "Invalid" and "syntax error" in v["syntax_msg"]
    assert v["constraint"] == "Conflict"
    assert v["count"] == "Invalid" and "number of" in v["count_msg"]
    assert v["fn"] == v["named"] == v["params"] == "Invalid"
    assert v["mixed"] == [True, True, True, True]
    assert v["null"] == "Conflict"  # NOT NULL
    assert v["committed"] == v["committed_query"] == "Invalid"
    assert "already committed" in v["committed_msg"]
    assert v["names"] == ["a", "backwards"]


async def test_inline_statements_keep_types_and_prepared_statements_run_inline(tmp_path):
    """Each SQL text of a transaction gets its own inline runner, which a statement
    prepared on the transaction shares: values keep their types through it (text, bytes
    that are not UTF-8, integers past 2^53, floats, booleans, NULL, typed values), any
    number of parameters crosses, a parameter table the runner cannot take as it is (a
    metatable) parks and still works, and more SQL texts than the runners kept (256)
    all run."""
    event = await run_sql(
        tmp_path,
        """
        local sql = require("sql")
        return function()
          local out = {}
          local db = assert(sql.get("test:db"))
          assert(db:execute("CREATE TABLE v (a, b, c, d, e)"))
          local tx = assert(db:begin())
          local ins = assert(tx:prepare("INSERT INTO v VALUES (?, ?, ?, ?, ?)"))
          local count = assert(tx:prepare("SELECT count(*) AS n FROM v"))
          local ran = false
          coroutine.spawn(function() ran = true end)
          assert(ins:execute({"text", "\\255\\254", 9007199254740993, 1.5, true}))
          assert(ins:execute({sql.NULL, sql.as.binary("ok"), -1, 0, false}))
          assert(tx:execute("INSERT INTO v (a) VALUES (?)", {7}))
          assert(tx:execute("INSERT INTO v (a) VALUES (42)"))
          for i = 1, 300 do
            assert(tx:execute("INSERT INTO v (a, b) VALUES (" .. i .. ", ?)", {"many"}))
          end
          out.ran_inline = not ran
          assert(tx:execute("INSERT INTO v (a) VALUES (?)", setmetatable({8}, {})))  -- parks
          out.n = assert(count:query())[1].n
          out.types = {}
          for _, r in ipairs(assert(tx:query(
              "SELECT typeof(a) AS a, typeof(b) AS b, typeof(c) AS c, typeof(d) AS d, typeof(e) AS e, c AS big FROM v WHERE rowid <= 2 ORDER BY rowid"))) do
            out.types[#out.types + 1] = table.concat({r.a, r.b, r.c, r.d, r.e}, ",")
            out.big = out.big or r.big
          end
          assert(tx:commit())
          local _, late = ins:execute({1, 2, 3, 4, 5})
          out.late = late:message()
          assert(ins:close())
          local _, closed = ins:execute({1, 2, 3, 4, 5})
          out.closed = closed:message()
          out.many = db:query("SELECT count(*) AS n FROM v WHERE b = 'many'")[1].n
          return out
        end
        """,
    )
    assert event.error is None, event.error
    v = event.value
    assert v["ran_inline"] is True
    assert v["n"] == 305 and v["many"] == 300
    assert v["types"] == ["text,blob,integer,real,integer", "null,blob,integer,integer,integer"]
    assert v["big"] == 9007199254740993
    assert "already committed" in v["late"]
    assert "closed" in v["closed"]


# `main` runs `child` (defined before it) and reports how it ended, how many rows it left
# and whether a new writer then begins at once (the write lock was released).
AFTER_CHILD = """
local function main()
  local db = assert(sql.get("test:db"))
  assert(db:execute("CREATE TABLE t (v)"))
  process.spawn_monitored("test:child", "test:processes")
  local err = process.events():receive().result.error
  local n = assert(db:query("SELECT count(*) AS n FROM t"))[1].n
  local tx = assert(db:begin())
  assert(tx:execute("INSERT INTO t VALUES ('kept')"))
  assert(tx:commit())
  return {n = n, kind = err and err:kind(), msg = err and err:message(),
          after = db:query("SELECT count(*) AS n FROM t")[1].n}
end
return {main = main, child = child}
"""


async def run_child(tmp_path, child: str, **app) -> dict:
    event = await run_sql(
        tmp_path,
        'local sql = require("sql")\n' + child + AFTER_CHILD,
        entries=[db_entry(), {"name": "child", "method": "child", **CHILD}],
        **app,
    )
    assert event.error is None, event.error
    return event.value


async def test_an_exit_with_inline_statements_open_leaves_the_database_unchanged(tmp_path):
    v = await run_child(
        tmp_path,
        """
        local function child()
          local db = assert(sql.get("test:db"))
          local tx = assert(db:begin())
          local stmt = assert(tx:prepare("INSERT INTO t VALUES (?)"))
          for i = 1, 50 do
            assert(tx:execute("INSERT INTO t VALUES (?)", {"lost" .. i}))
            assert(stmt:execute({"gone" .. i}))
          end
          error("crash with the transaction open")
        end
        """,
    )
    assert v["n"] == 0 and v["after"] == 1, v
    assert "crash with the transaction open" in v["msg"]


@pytest.mark.parametrize("statement_budget", [None, 0.3], ids=["host_budget", "watchdog_first"])
async def test_an_inline_statement_past_the_cpu_budget_fails_its_process(
    tmp_path, monkeypatch, statement_budget
):
    """A huge INSERT ... SELECT inside a transaction is interrupted at the host's CPU
    budget: the process fails with Timeout, as Lua code that never yields does, and
    SQLite rolled the whole transaction back.

    `watchdog_first`: the watchdog looks every tenth of the budget and may doom the step
    while SQLite still runs the statement (its clock started a little later than the
    step's); its hook would then fire on the first Lua instruction after the statement
    returns, and the process would fail with the plain budget error, the rollback unsaid
    (it did, about one run in ten). With SQLite's own budget twice the host's, the watchdog
    dooms the step every time: the module restarts the budget when it reports the overrun
    (`ModuleHost.restart_budget`), and its error is the one the process fails with."""
    if statement_budget is not None:
        monkeypatch.setattr(Bridge, "cpu_budget", property(lambda bridge: statement_budget))
    v = await run_child(
        tmp_path,
        """
        local function child()
          local db = assert(sql.get("test:db"))
          local tx = assert(db:begin())
          assert(tx:execute("INSERT INTO t VALUES (0)"))
          tx:execute([[WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
                       WHERE x < 100000000) INSERT INTO t SELECT x FROM c]])
          return "not interrupted"
        end
        """,
        host_options={"cpu_budget": "150ms"},
        timeout=30,
    )
    said = f"more than {statement_budget or 0.15:g}s without yielding"
    assert v["kind"] == "Timeout", v
    assert said in v["msg"] and "rolled back" in v["msg"], v
    assert v["n"] == 0 and v["after"] == 1
