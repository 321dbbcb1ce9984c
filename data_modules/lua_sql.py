"""The `sql` module: the Python half (`sql.lua` wraps it and holds the query builder).

Lua holds handles, small tables around a number; this file maps the numbers to databases,
transactions and statements, per owning process. When a process exits, its open
transactions are rolled back and all its handles forgotten, so a process that dies with a
transaction open leaves the database as it was.

Every database call parks the calling Lua task (`Bridge.blocking`) while the driver works
(SQLite in a worker thread, PostgreSQL on the event loop): other processes keep running.
The exception: a statement of a SQLite transaction, which took its locks at `begin`, runs
inline and answers at once, through the functions `_run_now` makes for sql.lua, one per SQL
text of the transaction (`sqldb.RunNow`; docs/decisions.md, "SQL statements of a
transaction run inline").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from actors.errors import ActorError, invalid
from actors.pid import PID
from data_modules import sqldb, sqltypes
from data_modules.bridge import Bridge, Owned, string
from data_modules.resources import Resources
from lua_bindings.contract import ModuleHost, Reply, nil_on_error, reply
from lua_bindings.convert import lua_type_name, text
from lua_bindings.modules import LuaModule


@attrs.define(eq=False)
class Statement:
    sql: str
    parent: Any
    """The `sqldb.Database` or `sqldb.Transaction` it runs on."""


def _sql_text(value: Any) -> str:
    sql = string(value, "SQL")
    if not sql:
        raise invalid("SQL is empty")
    return sql


class SqlFunctions:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.resources = Resources.of(bridge.registry)
        self._handles: Owned[Any] = Owned(bridge, "sql handle", self._drop)

    def _drop(self, target: Any) -> None:
        if isinstance(target, sqldb.Transaction):
            self.bridge.background(target.abandon)

    def _new(self, target: Any, owner: PID | None = None) -> int:
        return self._handles.add(target, owner)

    def _get(self, number: Any, kind: type | tuple[type, ...]) -> Any:
        target = self._handles.get(number)
        if not isinstance(target, kind):
            raise invalid("wrong kind of sql handle")
        return target

    def _blocking(
        self, start: Callable[[], Awaitable[Any]], on_ok: Callable[[Any], Reply]
    ) -> Reply:
        try:
            work = start()
        except ActorError as exc:
            return reply.failed(exc.error)
        return self.bridge.blocking(work, on_ok)  # type: ignore[arg-type]

    # -- module functions -------------------------------------------------------------------

    def get(self, entry_id: Any = None, *_: Any) -> tuple[int, bytes]:
        """→ handle number, database type (`nil, err` through `nil_on_error`)."""
        db = self.resources.database(self.bridge.entry_id(entry_id, "database"))
        return self._new(db), self.bridge.lua(db.kind)

    def release(self, number: Any) -> Reply:
        self._handles.remove(number)
        return (True,)

    def stats(self, number: Any) -> Any:
        db: sqldb.Database = self._get(number, sqldb.Database)
        return self.bridge.lua(db.pool.stats())

    def _run(self, target: Any, op: str, statement: str, values: list[Any]) -> Reply:
        """Run a query or execute on a database or transaction, parking the caller: on the
        connection's thread when the driver allows it (SQLite), else as a coroutine."""
        on_ok = self._rows if op == "query" else self._result
        owner = self.bridge.caller()[0]
        waiter: list[Callable[..., bool]] = []

        def done(result: Any, error: ActorError | None) -> None:
            if error is None:
                waiter[0](*on_ok(result))
            else:
                waiter[0](None, error.error)

        if isinstance(target, sqldb.Database):
            threaded = target.run_threaded(op, statement, values, owner, done)
        else:
            threaded = target.run_threaded(op, statement, values, done)
        if threaded:
            waiter.append(self.bridge.park())
            return reply.parked()
        run = target.query if op == "query" else target.execute
        if isinstance(target, sqldb.Database):
            return self.bridge.blocking(run(statement, values, owner), on_ok)
        return self.bridge.blocking(run(statement, values), on_ok)

    def _statement(self, number: Any, sql: Any) -> tuple[Any, str]:
        """The database or transaction a call runs on, and its SQL: `sql` itself, or the
        SQL of the statement `number` is (then `sql` is nil)."""
        target = self._get(number, (sqldb.Database, sqldb.Transaction, Statement))
        if type(target) is Statement:
            return target.parent, target.sql
        return target, _sql_text(sql)

    def query(self, number: Any, sql: Any, params: Any = None) -> Reply:
        """`db:query`, `tx:query` and `stmt:query` (with `sql` nil)."""
        try:
            target, statement = self._statement(number, sql)
            return self._run(target, "query", statement, sqltypes.params(params))
        except ActorError as exc:
            return reply.failed(exc.error)

    def execute(self, number: Any, sql: Any, params: Any = None) -> Reply:
        """`db:execute`, `tx:execute` and `stmt:execute` (with `sql` nil)."""
        try:
            target, statement = self._statement(number, sql)
            return self._run(target, "execute", statement, sqltypes.params(params))
        except ActorError as exc:
            return reply.failed(exc.error)

    def prepare(self, number: Any, sql: Any) -> Reply:
        """Checks the SQL now (syntax, tables); the statement then runs on the database's
        connections (each keeps it prepared in its statement cache) or the transaction's."""
        holder: list[Statement] = []
        pid = self.bridge.caller()[0]

        def start() -> Awaitable[Any]:
            target = self._get(number, (sqldb.Database, sqldb.Transaction))
            statement = Statement(_sql_text(sql), target)
            holder.append(statement)
            if isinstance(target, sqldb.Database):
                return target.check(statement.sql, self.bridge.caller()[0])
            return target.check(statement.sql)

        return self._blocking(start, lambda _: (self._new(holder[0], pid),))

    def begin(self, number: Any, options: Any = None) -> Reply:
        pid = self.bridge.caller()[0]

        def start() -> Awaitable[Any]:
            db: sqldb.Database = self._get(number, sqldb.Database)
            isolation, read_only = "default", False
            if options is not None:
                if not hasattr(options, "items"):
                    raise invalid(f"begin options must be a table, got {lua_type_name(options)}")
                level = options[b"isolation"]
                if level is not None:
                    isolation = text(level)
                read_only = options[b"read_only"] is True
            return db.begin(self.bridge.caller()[0], isolation, read_only)

        return self._blocking(start, lambda tx: (self._new(tx, pid), self._run_now(tx)))

    def _run_now(self, tx: sqldb.Transaction) -> Callable[[Any, Any], Any] | None:
        """The function sql.lua calls once per SQL text of `tx` (and keeps what it gives):
        a function that runs that statement inline with its parameters as arguments
        (`sqldb.RunNow`), or False for one that must take the parked path (COMMIT,
        PRAGMA..., see `sqldb.inline_allowed`; which also names what is wrong with a bad
        one). None: this transaction runs nothing inline."""
        bridge = self.bridge
        prepare_now = tx.statements_now(
            bridge.cpu_budget, bridge.restart_budget, sqltypes.param, self._rows_table
        )
        if prepare_now is None:
            return None

        def prepare(is_query: Any, sql: Any) -> Any:
            if type(sql) is not bytes or not sql:
                return False
            return prepare_now(is_query is True, text(sql))

        return prepare

    def tx_end(self, number: Any, verb: Any) -> Reply:
        def start() -> Awaitable[Any]:
            tx: sqldb.Transaction = self._get(number, sqldb.Transaction)
            return tx.commit() if verb == b"commit" else tx.rollback()

        return self._blocking(start, lambda _: (True,))

    def tx_savepoint(self, number: Any, verb: Any, name: Any = None) -> Reply:
        def start() -> Awaitable[Any]:
            tx: sqldb.Transaction = self._get(number, sqldb.Transaction)
            if not isinstance(name, bytes | str):
                raise invalid(f"savepoint name must be a string, got {lua_type_name(name)}")
            return tx.savepoint(text(verb), text(name))

        return self._blocking(start, lambda _: (True,))

    def tx_check(self, number: Any) -> Any:
        tx: sqldb.Transaction = self._get(number, sqldb.Transaction)
        if tx.state != "active":
            raise invalid(f"transaction is not active (already {tx.state})")
        return self.bridge.lua(tx.db.kind)

    def stmt_close(self, number: Any) -> Reply:
        self._handles.remove(number)
        return (True,)

    # -- replies ----------------------------------------------------------------------------

    def _rows(self, found: list[dict[str, Any]]) -> Reply:
        return (self._rows_table(found),)

    def _rows_table(self, found: list[dict[str, Any]]) -> Any:
        return self.bridge.lua(sqltypes.rows(found))

    def _result(self, result: sqldb.ExecResult) -> Reply:
        return (
            self.bridge.lua(
                {"last_insert_id": result.last_insert_id, "rows_affected": result.rows_affected}
            ),
        )


def _functions(host: ModuleHost) -> dict[str, Any]:
    functions = SqlFunctions(Bridge(host))
    return {
        "get": nil_on_error(functions.get),
        "release": functions.release,
        "stats": nil_on_error(functions.stats),
        "query": functions.query,
        "execute": functions.execute,
        "prepare": functions.prepare,
        "begin": functions.begin,
        "tx_end": functions.tx_end,
        "tx_savepoint": functions.tx_savepoint,
        "tx_check": nil_on_error(functions.tx_check),
        "stmt_close": functions.stmt_close,
        "typed": nil_on_error(sqltypes.typed),
        "NULL": sqltypes.NULL,
    }


MODULE = LuaModule("sql", _functions, package="data_modules")
