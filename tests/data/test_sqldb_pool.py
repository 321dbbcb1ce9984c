"""The pool of `data_modules.sqldb`, used directly from Python: lifetimes and idle limits."""

from __future__ import annotations

import anyio
import pytest

from data_modules import sqldb

pytestmark = pytest.mark.anyio


async def test_connections_past_their_lifetime_are_replaced(tmp_path):
    db = sqldb.Database(
        "t:db",
        sqldb.SqliteDriver(str(tmp_path / "a.db")),
        sqldb.PoolConfig(max_open=2, max_idle=1, max_lifetime=0.05),
    )
    try:
        await db.execute("CREATE TABLE t (v INTEGER)")
        await anyio.sleep(0.1)
        await db.execute("INSERT INTO t VALUES (1)")  # the idle connection is too old
        assert db.pool.stats()["max_lifetime_closed"] == 1
        assert (await db.query("SELECT v FROM t")) == [{"v": 1}]
    finally:
        await db.close()


async def test_a_memory_database_outlives_max_lifetime():
    db = sqldb.Database(
        "t:mem", sqldb.SqliteDriver(":memory:"), sqldb.PoolConfig(max_open=5, max_lifetime=0.01)
    )
    try:
        await db.execute("CREATE TABLE t (v INTEGER)")
        await anyio.sleep(0.05)
        await db.execute("INSERT INTO t VALUES (1)")
        assert db.pool.max_open == 1
        assert (await db.query("SELECT count(*) AS n FROM t")) == [{"n": 1}]
    finally:
        await db.close()


async def test_idle_connections_beyond_max_idle_are_closed(tmp_path):
    db = sqldb.Database(
        "t:db", sqldb.SqliteDriver(str(tmp_path / "b.db")), sqldb.PoolConfig(max_open=3, max_idle=1)
    )
    try:
        # read-only: three writers would queue for SQLite's one write lock
        txs = [await db.begin(owner=n, read_only=True) for n in range(3)]
        assert db.pool.stats()["open_connections"] == 3
        for tx in txs:
            await tx.commit()
        stats = db.pool.stats()
        assert stats["idle"] == 1 and stats["max_idle_closed"] == 2 and stats["in_use"] == 0
    finally:
        await db.close()
