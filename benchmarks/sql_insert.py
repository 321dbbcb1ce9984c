"""Single-row inserts in one transaction: a Lua process through the `sql` module against
Python's `sqlite3` doing the same inserts, in the same run, on the same kind of database
file (WAL journal, as `db.sql.sqlite` opens it).

Both sides time the same work: begin, the inserts, commit (with its fsync). Opening the
database and creating the table are outside the timing on both (the Lua side does them in
a `setup` process first, which leaves the pool's connection open). The Lua side also pays
the spawn and exit of its process, and a hop to the connection's thread for `begin` and
`commit`; its inserts run inline (docs/decisions.md, "SQL statements of a transaction run
inline").

The `sql` module's SQLite driver is `apsw`, not `sqlite3` (docs/decisions.md, "SQLite
through apsw"), so the issue's ratio compares Lua on apsw with Python on `sqlite3`, as the
issue asks. `python_apsw_rows_per_s` and `lua_over_python_apsw_ratio` are the same Python
loop on apsw (`Connection.execute`, a cursor per row, as the `sqlite3` loop makes): the
ratio against the same driver, printed so that neither hides the other.

`prepared_rows_per_s` and `prepared_over_python_ratio` are the same inserts through a
statement prepared on the transaction (`tx:prepare`, which the reference contract has),
printed beside the plain `tx:execute` lines so that neither hides the other.

Two more lines bound what any design can reach here: `call_floor_per_s` is a bare Lua 5.4
loop (lupa, no runtime) that makes, per row, what the `sql` module cannot avoid: the
parameter table, one call of a Python function that does nothing with the parameters it
is passed, the result table and the `assert`. `ceiling_ratio` adds that cost to Python's
own insert: the ratio a module with no cost of its own would reach.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import apsw
import lupa.lua54 as lupa

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from benchmarks.harness import report

APP = Path(__file__).parent / "apps" / "sql"
HOST = "bench:processes"
ROWS = 20_000
ROUNDS = 3
INSERT = "INSERT INTO items (id, name) VALUES (?, ?)"


def python_rate(path: Path) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    return _insert_rate(db)


def python_apsw_rate(path: Path) -> float:
    """`python_rate`'s loop on apsw (which opens no transaction by itself, as `sqlite3`
    with `isolation_level=None` does not)."""
    db = apsw.Connection(str(path))
    db.execute("PRAGMA journal_mode = WAL").fetchall()
    return _insert_rate(db)


def _insert_rate(db: Any) -> float:
    """The same loop on either driver: its `execute` per row, one transaction."""
    db.execute("CREATE TABLE items (id INTEGER, name TEXT)")
    started = time.perf_counter()
    db.execute("BEGIN")
    for i in range(1, ROWS + 1):
        db.execute(INSERT, (i, "item"))
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return ROWS / elapsed


def call_floor_rate() -> float:
    lua = lupa.LuaRuntime(encoding=None, register_eval=False, unpack_returned_tuples=True)
    loop = lua.eval(
        """function(run, n)
          local clock = os.clock
          local started = clock()
          for i = 1, n do
            local params = {i, "item"}
            local id, count = run(params[1], params[2])
            assert({last_insert_id = id, rows_affected = count})
          end
          return n / (clock() - started)
        end"""
    )

    def run(*params: object) -> tuple[int, int]:
        return 1, 1

    return float(loop(run, ROWS * 5))


async def lua_rate(path: Path, target: str = "bench:inserter") -> float:
    os.environ["BENCH_SQL_DB"] = str(path)
    runtime = AppRuntime.load(APP)
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host(HOST)
        setup = await host.wait_exit(
            await runtime.node.spawn(HOST, SpawnRequest(target="bench:setup"))
        )
        if setup.error is not None:
            raise RuntimeError(f"setup failed: {setup.error}")
        started = time.perf_counter()
        pid = await runtime.node.spawn(HOST, SpawnRequest(target=target, args=(ROWS,)))
        event = await host.wait_exit(pid)
        elapsed = time.perf_counter() - started
    if event.error is not None:
        raise RuntimeError(f"inserter failed: {event.error}")
    return ROWS / elapsed


def main() -> None:
    lua, prepared, python, python_apsw, floor = 0.0, 0.0, 0.0, 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(ROUNDS):
            python = max(python, python_rate(Path(tmp) / f"py{n}.db"))
            python_apsw = max(python_apsw, python_apsw_rate(Path(tmp) / f"apsw{n}.db"))
            lua = max(lua, anyio.run(lua_rate, Path(tmp) / f"lua{n}.db"))
            prepared = max(
                prepared, anyio.run(lua_rate, Path(tmp) / f"prep{n}.db", "bench:prepared")
            )
            floor = max(floor, call_floor_rate())
    report("sql_insert", "rows_per_s", lua)
    report("sql_insert", "python_rows_per_s", python)
    report("sql_insert", "lua_over_python_ratio", lua / python)
    report("sql_insert", "python_apsw_rows_per_s", python_apsw)
    report("sql_insert", "lua_over_python_apsw_ratio", lua / python_apsw)
    report("sql_insert", "prepared_rows_per_s", prepared)
    report("sql_insert", "prepared_over_python_ratio", prepared / python)
    report("sql_insert", "call_floor_per_s", floor)
    report("sql_insert", "ceiling_ratio", (1 / python) / (1 / python + 1 / floor))
