# ruff: noqa: E501  (Lua sources in strings)
"""The `sql` module on a real PostgreSQL server (started by the `postgres` fixture)."""

from __future__ import annotations

import anyio
import asyncpg
import pytest

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from tests.data.pgserver import USER
from tests.lua_harness import HOST, run_entry, write_app

pytestmark = pytest.mark.anyio


def pg_entries(cluster, **pool):
    return [
        {
            "name": "pg",
            "kind": "db.sql.postgres",
            "dsn": "${env:ACTORS_TEST_PG_DSN}",
            "pool": {"max_open": 3, "max_idle": 1, **pool},
        },
        {
            "name": "pgf",
            "kind": "db.sql.postgres",
            "host": "127.0.0.1",
            "port": cluster.port,
            "database": "postgres",
            "username": USER,
        },
    ]


@pytest.fixture
def pg_env(postgres, monkeypatch):
    monkeypatch.setenv("ACTORS_TEST_PG_DSN", postgres.dsn)
    return postgres


async def test_postgres_types_transactions_builder(tmp_path, pg_env):
    app = write_app(
        tmp_path / "app",
        """
        local sql = require("sql")
        return function()
          local db = assert(sql.get("test:pg"))
          assert(db:type() == sql.type.POSTGRES)
          assert(db:execute("DROP TABLE IF EXISTS items"))
          assert(db:execute([[CREATE TABLE items (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE,
                              price NUMERIC(10,2), qty INTEGER, ok BOOLEAN, data BYTEA, doc JSONB, note TEXT)]]))
          local r = assert(db:execute("INSERT INTO items (name, price, qty, ok, data, doc) VALUES ($1, $2, $3, $4, $5, $6)",
                                      {"widget", 19.99, 3, true, sql.as.binary("\\0\\255"), {tags = {"a", "b"}}}))
          assert(r.rows_affected == 1)
          local row = assert(db:query("SELECT * FROM items WHERE name = $1", {"widget"}))[1]
          assert(math.type(row.id) == "integer" and math.type(row.qty) == "integer")
          assert(row.price == 19.99 and row.ok == true and row.data == "\\0\\255")
          assert(row.doc.tags[2] == "b" and row.note == nil)
          -- a transaction rolled back leaves nothing
          local tx = assert(db:begin({isolation = sql.isolation.REPEATABLE_READ}))
          assert(tx:execute("INSERT INTO items (name) VALUES ($1)", {"gone"}))
          assert(tx:savepoint("sp"))
          assert(tx:rollback())
          local _, e = tx:query("SELECT 1")
          assert(e:kind() == errors.INVALID)
          -- the builder renders $n for PostgreSQL by itself
          local ins = sql.builder.insert("items"):columns("name", "qty"):values("gadget", 7)
          assert(ins:run_with(db):exec())
          local q = sql.builder.select("name", "qty"):from("items")
              :where(sql.builder.gt({qty = 2})):order_by("qty DESC")
          local rows = assert(q:run_with(db):query())
          local stmt = assert(db:prepare("SELECT qty FROM items WHERE name = $1"))
          local got = assert(stmt:query({"gadget"}))[1].qty
          local _, dup = db:execute("INSERT INTO items (name) VALUES ($1)", {"widget"})
          local _, syntax = db:query("SELEC 1")
          local _, count = db:query("SELECT $1::int", {})
          local ro = assert(db:begin({read_only = true}))
          local _, ro_err = ro:execute("INSERT INTO items (name) VALUES ($1)", {"nope"})
          ro:rollback()
          local _, wc = db:begin({isolation = sql.isolation.WRITE_COMMITTED})
          local f = assert(sql.get("test:pgf"))
          local one = assert(f:query("SELECT 1 AS one"))[1].one
          return {rows[1].name, rows[2].name, got, dup:kind(), syntax:kind(), count:kind(), one,
                  db:stats().max_open_connections, ro_err:kind(), wc:kind()}
        end
        """,
        modules=["sql"],
        entries=pg_entries(pg_env),
    )
    event = await run_entry(app, "test:main", timeout=30)
    assert event.error is None, event.error
    assert event.value == [
        "gadget",
        "widget",
        7,
        "Conflict",
        "Invalid",
        "Invalid",
        1,
        3,
        "PermissionDenied",
        "Invalid",
    ]


async def test_postgres_exit_with_open_transaction(tmp_path, pg_env):
    app = write_app(
        tmp_path / "app",
        """
        local sql = require("sql")
        local function child()
          local db = assert(sql.get("test:pg"))
          local tx = assert(db:begin())
          assert(tx:execute("INSERT INTO t2 VALUES ('lost')"))
          error("crash with the transaction open")
        end
        local function main()
          local db = assert(sql.get("test:pg"))
          db:execute("DROP TABLE IF EXISTS t2")
          db:execute("CREATE TABLE t2 (v TEXT)")
          process.spawn_monitored("test:child", "test:processes")
          local ev = process.events():receive()
          assert(ev.result.error)
          return db:query("SELECT count(*)::int AS n FROM t2")[1].n
        end
        return {main = main, child = child}
        """,
        modules=["sql"],
        entries=[
            *pg_entries(pg_env),
            {
                "name": "child",
                "kind": "process.lua",
                "source": "file://main.lua",
                "method": "child",
                "modules": ["sql"],
            },
        ],
    )
    event = await run_entry(app, "test:main", timeout=30)
    assert event.error is None, event.error
    assert event.value == 0
    conn = await asyncpg.connect(pg_env.dsn)
    try:
        # no connection of ours is left inside a transaction
        states = await conn.fetch(
            "SELECT state FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'"
        )
        assert states == []
    finally:
        await conn.close()


async def test_postgres_down_at_start_and_mid_run(tmp_path, pg_env):
    """Queries fail `Unavailable` (retryable) while the server is down, and the pool serves
    again once it is back, both when it was down from the start and when it went away
    (a connection the server closed is dropped, never handed out again)."""
    app = write_app(
        tmp_path / "app",
        """
        local sql = require("sql")
        return function()
          local db = assert(sql.get("test:pg"))
          local rows, err = db:query("SELECT 42 AS v")
          if err then return err:kind() .. ":" .. tostring(err:retryable()) end
          return rows[1].v
        end
        """,
        modules=["sql"],
        entries=pg_entries(pg_env),
    )
    pg_env.stop()
    outcomes = []
    runtime = AppRuntime.load(app)

    async def server(action) -> None:  # pg_ctl in a thread: the event loop keeps running
        await anyio.to_thread.run_sync(action)

    try:
        async with runtime.node:
            await runtime.start()

            async def query() -> None:
                pid = await runtime.node.spawn(HOST, SpawnRequest(target="test:main"))
                with anyio.fail_after(20):
                    event = await runtime.node.host(HOST).wait_exit(pid)
                assert event.error is None, event.error
                outcomes.append(event.value)

            await query()  # down from the start
            await server(pg_env.start)
            await query()
            await query()  # a pooled connection now
            await server(pg_env.stop)  # goes down mid-run
            await query()
            await server(pg_env.start)
            await query()
            await query()
            await server(pg_env.stop)  # a restart between two queries
            await server(pg_env.start)
            await query()
    finally:
        pg_env.start()
    assert outcomes == ["Unavailable:true", 42, 42, "Unavailable:true", 42, 42, 42]
