"""SQL databases for apps: a connection pool per `db.sql.*` entry, over two drivers.

- SQLite (`apsw`): each connection has its own worker thread, so a query never blocks the
  event loop (nor waits behind another connection's query). A `:memory:` database is one
  connection (each connection would see a database of its own). Once a transaction holds
  its locks (`BEGIN IMMEDIATE`, or a read-only one's snapshot, both taken on the thread),
  its statements can wait for nothing but CPU and the page cache, so they run on the
  caller's thread instead (`Transaction.statements_now`; docs/decisions.md, "SQL statements of a
  transaction run inline").
- PostgreSQL (`asyncpg`): native asyncio. Connections are opened on demand, so an app whose
  server is down starts anyway; its queries fail `Unavailable` (retryable) until the server is
  back, and broken connections are dropped, never handed out again.

`Pool` is ours for both drivers: the configured sizes, statistics, an acquire timeout, and a
refusal (instead of a deadlock) when a process waits for a connection that only it holds.
Everything here is plain Python (no Lua); values are already converted by `sqltypes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import apsw
import attrs

from actors import errors
from actors.errors import ActorError, TimedOutError, invalid

SQLITE = "sqlite"
POSTGRES = "postgres"

ISOLATION_LEVELS = (
    "default",
    "read_uncommitted",
    "read_committed",
    "write_committed",
    "repeatable_read",
    "serializable",
)
_SAVEPOINT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Row = dict[str, Any]
Params = Sequence[Any]


@attrs.frozen
class ExecResult:
    last_insert_id: int = 0
    rows_affected: int = 0


@attrs.frozen
class PoolConfig:
    max_open: int = 0
    """Most connections open at once; 0 means the driver's default (`DEFAULT_MAX_OPEN`)."""
    max_idle: int = 0
    """Idle connections kept for reuse; 0 means `DEFAULT_MAX_IDLE`."""
    max_lifetime: float = 3600.0
    """Seconds after which a connection is closed instead of reused."""
    acquire_timeout: float = 30.0
    """Seconds a query waits for a free connection before failing `Unavailable`."""


DEFAULT_MAX_OPEN = 10
DEFAULT_MAX_IDLE = 2


def unavailable(message: str) -> ActorError:
    return errors.error(errors.UNAVAILABLE, message, retryable=True)


class OverBudget(TimedOutError):
    """An inline statement ran past the CPU budget of its host and SQLite interrupted it
    (which rolls back the whole transaction). Its process must fail, as Lua code that runs
    past the budget does."""


NOT_NOW: Any = False
"""What a `RunNow` answers when the statement must take the connection's thread."""
ACTIVE = "active"

RunNow = Callable[..., Any]
"""`run(*params)`: one statement of one transaction, its SQL fixed, run on the calling
thread (made by `Transaction.statements_now`). It answers the rows (converted by
`rows_out`) for a query, `(last insert id, rows affected)` for anything else, `(None,
error, fatal)` for a failure (`fatal`: SQLite interrupted it past the CPU budget, and the
caller must fail as code over its budget does), or `NOT_NOW` when the statement must take
the thread: an earlier call of the transaction is still there (order is kept), or a
statement of its own ended the transaction. Answers, not exceptions: it is called from Lua."""

PrepareNow = Callable[[bool, str], "RunNow | bool"]
"""`prepare_now(is_query, sql)`: the `RunNow` of one SQL text of a transaction, or `NOT_NOW`
for a text that must take the thread (`inline_allowed`). The caller keeps it for the
next time it runs that text: the hot path then passes only the parameters."""


class Connection(Protocol):
    """One driver connection. Calls never overlap (the pool hands it to one user)."""

    born: float

    def alive(self) -> bool: ...
    async def query(self, sql: str, params: Params) -> list[Row]: ...
    async def execute(self, sql: str, params: Params) -> ExecResult: ...
    async def check(self, sql: str) -> None: ...
    async def run(self, sql: str) -> None: ...
    async def begin(self, isolation: str, read_only: bool) -> None: ...
    async def close(self) -> None: ...


class Driver(Protocol):
    kind: str
    description: str

    async def connect(self) -> Connection: ...
    def translate(self, exc: BaseException) -> tuple[ActorError, bool]:
        """The error value for a driver exception, and whether the connection is broken."""
        ...


# -- SQLite ---------------------------------------------------------------------------------

_PRAGMA_NAME = re.compile(r"^[a-z_]+$")
_PRAGMA_VALUE = re.compile(r"^[A-Za-z0-9_.-]+$")

_PROGRESS_EVERY = 100_000
"""SQLite VM instructions between two looks at the clock of an inline statement (~1 ms)."""
_LEAD = r"^(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)*"
"""Blanks and comments before a statement's first keyword."""
_NOT_INLINE = re.compile(
    _LEAD + r"(?:BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|VACUUM|ATTACH|DETACH)\b",
    re.IGNORECASE | re.DOTALL,
)
_DML = re.compile(_LEAD + r"(?:INSERT|UPDATE|DELETE|REPLACE|WITH)\b", re.IGNORECASE | re.DOTALL)
_NOTHING = re.compile(r"(?:\s|;|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
"""What may follow the one statement of a SQL text: blanks, semicolons and comments."""
_NULL_BINDINGS: Any = apsw._null_bindings  # type: ignore[attr-defined]
"""Binds NULL to every parameter, whatever their number (what `apsw.ext.query_info` uses
to prepare a statement without its values)."""
_SHAPES_MAX = 512
"""SQL texts whose `_Shape` a connection keeps (SQL built with its values inside is a new
text every time: past it, the cache starts again empty)."""
_PLAIN = frozenset({int, float, bool, type(None)})
"""Parameter types SQLite binds as they are (an inline runner converts the others)."""


def inline_allowed(sql: str) -> bool:
    """Whether `sql` may run inline in a transaction: not transaction control (COMMIT
    waits on the disk, and the transaction must end through its own methods), not a PRAGMA
    (a checkpoint waits for readers), VACUUM or ATTACH. Those take the thread."""
    return _NOT_INLINE.match(sql) is None


@attrs.frozen
class _Shape:
    """What running one SQL text needs to know, found once per connection and text by
    preparing it (`_shape_of`)."""

    changes: bool
    """A DML statement (INSERT, UPDATE, DELETE, REPLACE, a WITH that writes): its
    `rows_affected` is SQLite's `changes()`. Anything else affects 0 rows (`changes()`
    still counts the last DML statement after a CREATE or a SELECT)."""
    rows: bool
    """It has result columns (a SELECT, a PRAGMA that answers, DML with RETURNING)."""


def _shape_of(db: apsw.Connection, sql: str) -> _Shape:
    """Prepare the first statement of `sql` without running it (NULL for every parameter,
    and an exec trace that stops it before its first step). Raises the SQL error of a
    statement that does not compile (syntax, unknown table), and refuses a text with more
    than one statement: apsw would run them all, so `SELECT 1; COMMIT` would end a
    transaction behind its methods' back (and `sqlite3` refused them too)."""
    seen: list[tuple[str, bool, bool]] = []

    def trace(cursor: apsw.Cursor, first: str, bindings: Any) -> bool:
        seen.append((first, cursor.is_readonly, bool(cursor.get_description())))
        return False

    cursor = db.cursor()
    cursor.exec_trace = trace
    try:
        cursor.execute(sql, _NULL_BINDINGS)
    except apsw.ExecTraceAbort:
        pass
    finally:
        cursor.close()
    if not seen:
        return _Shape(changes=False, rows=False)  # blanks and comments: runs nothing
    first, read_only, rows = seen[0]
    if _NOTHING.fullmatch(sql, len(first)) is None:
        raise invalid(
            "one SQL statement at a time: the text goes on after its first statement "
            f"({first.strip()!r}); run each statement by itself"
        )
    return _Shape(changes=not read_only and _DML.match(first) is not None, rows=rows)


K = TypeVar("K")
V = TypeVar("V")


def _kept(cache: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """`cache[key]`, made by `make` the first time; past `_SHAPES_MAX` keys (SQL built with
    its values inside is a new text every time) the cache starts again empty."""
    found = cache.get(key)
    if found is None:
        found = make()
        if len(cache) >= _SHAPES_MAX:
            cache.clear()
        cache[key] = found
    return found


def _json_column(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _bool_column(value: Any) -> bool:
    return value not in (0, "0", "", b"0", b"")


_DECLARED: dict[str, Callable[[Any], Any]] = {
    "JSON": _json_column,
    "JSONB": _json_column,
    "BOOLEAN": _bool_column,
    "BOOL": _bool_column,
}
"""Columns converted by their declared type (its first word, any case, as `sqlite3`'s
PARSE_DECLTYPES did): JSON text decoded (a number stored there is already its value),
BOOLEAN true unless 0, '0' or empty. NULL stays NULL."""

Plan = tuple[list[str], list[tuple[int, Callable[[Any], Any]]]]


def _plan_of(description: tuple[tuple[str, str | None], ...]) -> Plan:
    """The column names of a result and the columns converted by declared type."""
    names = [name for name, _ in description]
    converted = []
    for i, (_, declared) in enumerate(description):
        word = (declared or "").split("(", 1)[0].split(None, 1)
        convert = _DECLARED.get(word[0].upper()) if word else None
        if convert is not None:
            converted.append((i, convert))
    return names, converted


class SqliteConnection:
    def __init__(self, db: apsw.Connection, thread: ThreadPoolExecutor, inline: bool) -> None:
        self._db = db
        self._thread = thread
        self._closed = False
        self._query_only = False
        self.born = time.monotonic()
        self.inline = inline
        """Whether its transactions may run statements inline: true when, once a
        transaction holds its locks, nothing can make a statement wait for another
        connection (WAL or an in-memory database; a rollback journal would need the
        exclusive lock to spill its cache)."""
        self._caller = threading.get_ident()
        self._budget: float | None = None
        self._started = 0.0
        self.interrupted = False
        self._shapes: dict[str, _Shape] = {}
        self._plans: dict[tuple[tuple[str, str | None], ...], Plan] = {}
        db.set_progress_handler(self._progress, _PROGRESS_EVERY)

    def _progress(self) -> bool:
        """SQLite's progress handler: interrupts an inline statement that has used more
        than its CPU budget (the statements of the connection's thread run unbounded)."""
        if self._budget is None or threading.get_ident() != self._caller:
            return False
        now = time.thread_time()
        if not self._started:
            self._started = now
        elif now - self._started > self._budget:
            self.interrupted = True
            return True
        return False

    def _shape(self, sql: str) -> _Shape:
        """`_shape_of(sql)`, kept per text (it depends on the text only, not the schema)."""
        return _kept(self._shapes, sql, lambda: _shape_of(self._db, sql))

    def _plan(self, description: tuple[tuple[str, str | None], ...]) -> Plan:
        return _kept(self._plans, description, lambda: _plan_of(description))

    def statements_now(
        self,
        tx: Transaction,
        budget: float | None,
        over_budget: Callable[[], None],
        param: Callable[[Any], Any],
        rows_out: Callable[[list[Row]], Any],
    ) -> PrepareNow:
        """`Transaction.statements_now` for a connection that allows it (`inline`). The
        hot path of the `sql` module: per statement one Python frame, which finds its SQL,
        its cursor and its checks already bound (each is a few tenths of a microsecond
        against SQLite's one: docs/performance.md, "SQL")."""
        db = self._db
        run_query, shape_of = self._query, self._shape
        cursor = db.cursor()
        execute, drain = cursor.execute, cursor.fetchall
        last_id, changes = db.last_insert_rowid, db.changes
        plain = _PLAIN
        self._budget = budget

        def failed(exc: Exception) -> tuple[None, Any, bool]:
            if isinstance(exc, ActorError):  # a parameter `param` refused
                return None, exc.error, False
            interrupted, self.interrupted = self.interrupted, False
            error = tx.failed_now(exc, interrupted, db.in_transaction, budget)
            if interrupted:
                over_budget()
            return None, error.error, interrupted

        def runner(is_query: bool, sql: str) -> RunNow:
            # Its text's `_Shape`, found at its first run (the thread may be busy now),
            # kept as two plain booleans (no attribute look-up per statement).
            counts: bool | None = None
            drains = False

            def run(*params: Any) -> Any:
                nonlocal counts, drains
                if tx.busy or not db.in_transaction:  # (`busy` too once it has ended)
                    if tx.state != ACTIVE:
                        return None, tx.inactive().error, False
                    return NOT_NOW
                self._started = 0.0
                try:
                    # The parameters as `sqltypes.param` converts them, its common cases
                    # written out here (a call per statement saved, ~0.07 µs): numbers,
                    # booleans and nil as they are, a string as text when it is UTF-8
                    # (`bytes.decode()`: naming the codec costs a lookup per call).
                    values = []
                    for value in params:
                        cls = type(value)
                        if cls is bytes:
                            try:  # noqa: SIM105 (contextlib.suppress costs a context manager)
                                value = value.decode()
                            except UnicodeDecodeError:
                                pass
                        elif cls not in plain:
                            value = param(value)
                        values.append(value)
                    if is_query:
                        return rows_out(run_query(sql, values))
                    if counts is None:
                        shape = shape_of(sql)
                        counts, drains = shape.changes, shape.rows
                    execute(sql, values)
                    if drains:
                        drain()  # RETURNING: no statement left half-run in the transaction
                    return last_id(), changes() if counts else 0
                except Exception as exc:
                    return failed(exc)

            return run

        def prepare_now(is_query: bool, sql: str) -> RunNow | bool:
            if not inline_allowed(sql):
                return NOT_NOW
            return runner(is_query, sql)

        return prepare_now

    def alive(self) -> bool:
        return not self._closed

    def _call(self, fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
        return asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def _query(self, sql: str, params: Params) -> list[Row]:
        shape = self._shape(sql)
        cursor = self._db.cursor()
        try:
            cursor.execute(sql, params)
            if not shape.rows:
                return []
            try:
                description = cursor.get_description()
            except apsw.ExecutionCompleteError:  # no row
                return []
            names, converted = self._plan(description)
            if not converted:
                return [dict(zip(names, row, strict=True)) for row in cursor]
            found = []
            for row in cursor:
                values = list(row)
                for i, convert in converted:
                    if values[i] is not None:
                        values[i] = convert(values[i])
                found.append(dict(zip(names, values, strict=True)))
            return found
        finally:
            cursor.close()

    def _execute(self, sql: str, params: Params) -> ExecResult:
        shape = self._shape(sql)
        db = self._db
        cursor = db.cursor()
        try:
            cursor.execute(sql, params)
            if shape.rows:
                cursor.fetchall()
        finally:
            cursor.close()
        return ExecResult(db.last_insert_rowid(), db.changes() if shape.changes else 0)

    def _check(self, sql: str) -> None:
        """Compile `sql` without running it (a statement prepared on the transaction or
        database checks its syntax and tables now)."""
        self._shape(sql)

    def submit(self, op: str, sql: str, params: Params) -> Future[Any]:
        """`query` or `execute` answered by a future of the connection's own thread, with
        no event-loop task per call (the fast path of transactions)."""
        return self._thread.submit(self._query if op == "query" else self._execute, sql, params)

    async def query(self, sql: str, params: Params) -> list[Row]:
        return await self._call(self._query, sql, params)

    async def execute(self, sql: str, params: Params) -> ExecResult:
        return await self._call(self._execute, sql, params)

    async def check(self, sql: str) -> None:
        await self._call(self._check, sql)

    def _statement(self, sql: str) -> None:
        """One statement of ours (BEGIN, COMMIT, a PRAGMA...), run to its end."""
        self._db.execute(sql).fetchall()

    def _run(self, sql: str) -> None:
        self._statement(sql)
        if self._query_only and sql in ("COMMIT", "ROLLBACK"):
            self._query_only = False
            self._statement("PRAGMA query_only = OFF")

    async def run(self, sql: str) -> None:
        await self._call(self._run, sql)

    def _begin(self, read_only: bool) -> None:
        """Begin and take the locks now, on this thread, so that no later statement of the
        transaction waits for another connection: a writer takes the write lock (waiting
        here, up to busy_timeout, for another writer), a reader its snapshot."""
        if read_only:
            self._statement("PRAGMA query_only = ON")
            self._query_only = True
            self._statement("BEGIN")
            self._statement("PRAGMA schema_version")
        else:
            self._statement("BEGIN IMMEDIATE")

    async def begin(self, isolation: str, read_only: bool) -> None:
        # SQLite transactions are serializable: every level is satisfied by the strongest.
        await self._call(self._begin, read_only)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._call(self._db.close)
        finally:
            self._thread.shutdown(wait=False)


_BINDINGS_COUNT = re.compile(r"uses (\d+) and there are (\d+) supplied|has (\d+) bindings but")


def _wrong_count(message: str) -> str:
    """apsw's message for a wrong number of parameters, said plainly."""
    found = _BINDINGS_COUNT.search(message)
    if found is None:
        return f"wrong parameters: {message}"
    wanted, given = (found[1], found[2]) if found[1] is not None else (found[3], "0")
    return f"wrong number of parameters: the statement takes {wanted}, {given} given"


@attrs.define
class SqliteDriver:
    file: str
    options: dict[str, Any] = attrs.field(factory=dict)
    kind: str = SQLITE

    @property
    def description(self) -> str:
        return f"sqlite {self.file}"

    @property
    def in_memory(self) -> bool:
        return self.file == ":memory:" or "mode=memory" in self.file

    def _open(self) -> tuple[apsw.Connection, bool]:
        """A connection with its PRAGMAs, and whether its transactions may run inline."""
        flags = apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
        if self.file.startswith("file:"):
            flags |= apsw.SQLITE_OPEN_URI
        # No implicit transactions in apsw: we issue BEGIN/COMMIT ourselves. Used by its
        # own worker thread, and inline by its transaction's caller, never both at once.
        db = apsw.Connection(self.file, flags=flags, statementcachesize=256)
        try:
            pragmas = {"busy_timeout": 5000, "foreign_keys": "ON"}
            if not self.in_memory:
                pragmas["journal_mode"] = "WAL"
            pragmas.update(self.options)
            for name, value in pragmas.items():
                db.execute(f"PRAGMA {name} = {value}").fetchall()
            journal = db.execute("PRAGMA journal_mode").fetchall()[0][0]
        except BaseException:
            db.close()
            raise
        return db, self.in_memory or str(journal).lower() == "wal"

    async def connect(self) -> Connection:
        thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite")
        try:
            db, inline = await asyncio.get_running_loop().run_in_executor(thread, self._open)
        except BaseException:
            thread.shutdown(wait=False)
            raise
        return SqliteConnection(db, thread, inline)

    def translate(self, exc: BaseException) -> tuple[ActorError, bool]:
        message = str(exc)
        if isinstance(exc, ActorError):
            return exc, False
        if isinstance(exc, apsw.ConstraintError | apsw.MismatchError):
            return errors.error(errors.CONFLICT, f"constraint violation: {message}"), False
        if isinstance(exc, apsw.BusyError | apsw.LockedError):
            return unavailable(f"database is busy: {message}"), False
        if isinstance(exc, apsw.CantOpenError | apsw.IOError | apsw.ConnectionClosedError):
            return unavailable(f"cannot open database {self.file}: {message}"), True
        if isinstance(exc, apsw.ReadOnlyError):
            return errors.error(errors.PERMISSION_DENIED, message), False
        if isinstance(exc, apsw.BindingsError):
            return invalid(_wrong_count(message)), False
        if isinstance(exc, apsw.Error):
            return invalid(f"SQL error: {message}"), False
        if isinstance(exc, OverflowError):
            return invalid(f"parameter out of range: {message}"), False
        if isinstance(exc, TypeError) and "binding" in message:
            return invalid(message), False
        return errors.error(errors.INTERNAL, f"{type(exc).__name__}: {message}"), False

    @staticmethod
    def check_options(options: dict[str, Any]) -> dict[str, Any]:
        """`options:` of a `db.sql.sqlite` entry are PRAGMAs: names and values are words."""
        for name, value in options.items():
            if not _PRAGMA_NAME.match(str(name)) or not _PRAGMA_VALUE.match(str(value)):
                raise invalid(f"options: {name}={value!r} is not a PRAGMA name and simple value")
        return options


# -- PostgreSQL -----------------------------------------------------------------------------


def _status_count(status: str) -> int:
    last = status.rsplit(" ", 1)[-1] if status else ""
    return int(last) if last.isdigit() else 0


class PostgresConnection:
    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._tx: Any = None
        self.born = time.monotonic()

    def alive(self) -> bool:
        return not self._conn.is_closed()

    async def query(self, sql: str, params: Params) -> list[Row]:
        records = await self._conn.fetch(sql, *params)
        return [dict(record.items()) for record in records]

    async def execute(self, sql: str, params: Params) -> ExecResult:
        status = await self._conn.execute(sql, *params)
        return ExecResult(0, _status_count(status))

    async def check(self, sql: str) -> None:
        await self._conn.prepare(sql)

    async def run(self, sql: str) -> None:
        await self._conn.execute(sql)

    async def begin(self, isolation: str, read_only: bool) -> None:
        level = None if isolation == "default" else isolation
        if level == "write_committed":
            raise invalid("isolation write_committed is not supported by PostgreSQL")
        parts = ["BEGIN"]
        if level is not None:
            parts.append("ISOLATION LEVEL " + level.replace("_", " ").upper())
        if read_only:
            parts.append("READ ONLY")
        await self._conn.execute(" ".join(parts))

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._conn.close(), 2)
        except Exception:
            self._conn.terminate()


def _json_out(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@attrs.define
class PostgresDriver:
    connect_args: dict[str, Any]
    connect_timeout: float = 5.0
    kind: str = POSTGRES

    @property
    def description(self) -> str:
        args = self.connect_args
        if args.get("dsn"):
            return "postgres (dsn)"
        return f"postgres {args.get('host')}:{args.get('port')}/{args.get('database')}"

    async def connect(self) -> Connection:
        import asyncpg

        conn = await asyncpg.connect(**self.connect_args, timeout=self.connect_timeout)
        for name in ("json", "jsonb"):
            await conn.set_type_codec(
                name, encoder=_json_out, decoder=json.loads, schema="pg_catalog"
            )
        return PostgresConnection(conn)

    def translate(self, exc: BaseException) -> tuple[ActorError, bool]:
        import asyncpg
        from asyncpg import exceptions as pg

        if isinstance(exc, ActorError):
            return exc, False
        message = str(exc)
        broken_kinds = (
            OSError,
            ConnectionError,
            asyncio.TimeoutError,
            pg.ConnectionDoesNotExistError,
            pg.PostgresConnectionError,
            pg.CannotConnectNowError,
            pg.AdminShutdownError,
            pg.TooManyConnectionsError,
            asyncpg.InternalClientError,  # e.g. a connection the server closed while idle
        )
        if isinstance(exc, broken_kinds):
            return unavailable(
                f"{self.description} unavailable: {message or type(exc).__name__}"
            ), True
        if isinstance(exc, pg.InsufficientPrivilegeError | pg.ReadOnlySQLTransactionError):
            return errors.error(errors.PERMISSION_DENIED, message), False
        if isinstance(exc, pg.IntegrityConstraintViolationError):
            return errors.error(errors.CONFLICT, f"constraint violation: {message}"), False
        if isinstance(exc, pg.InFailedSQLTransactionError):
            return invalid(
                f"transaction aborted by an earlier error, roll it back: {message}"
            ), False
        if isinstance(exc, pg.SyntaxOrAccessError | pg.DataError):
            return invalid(f"SQL error: {message}"), False
        if isinstance(exc, asyncpg.InterfaceError | asyncpg.exceptions.DataError):
            if "is closed" in message or "another operation" in message:
                return unavailable(f"{self.description}: {message}"), True
            if "arguments" in message:
                message = f"wrong number of parameters: {message}"
            return invalid(message), False
        if isinstance(exc, TypeError | ValueError | OverflowError):
            return invalid(f"bad parameter: {message}"), False
        if isinstance(exc, asyncpg.PostgresError):
            code = getattr(exc, "sqlstate", "")
            return errors.error(errors.INTERNAL, f"{message} (SQLSTATE {code})"), False
        return errors.error(errors.INTERNAL, f"{type(exc).__name__}: {message}"), False


# -- the pool -------------------------------------------------------------------------------


class Pool:
    """Connections of one database, for both drivers. `owner` identifies who holds a
    connection (a process), so that a process waiting for a connection only it holds is
    told so instead of waiting forever."""

    def __init__(self, name: str, driver: Driver, config: PoolConfig) -> None:
        self.name = name
        self.driver = driver
        self.config = config
        max_open = config.max_open or DEFAULT_MAX_OPEN
        self.lifetime = config.max_lifetime
        if isinstance(driver, SqliteDriver) and driver.in_memory:
            # One connection, kept for the app's life: closing it would drop the database.
            max_open, self.lifetime = 1, float("inf")
        self.max_open = max_open
        self.max_idle = min(config.max_idle or DEFAULT_MAX_IDLE, max_open)
        self._idle: deque[Connection] = deque()
        self._open = 0
        self._holders: Counter[Hashable] = Counter()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False
        self.wait_count = 0
        self.wait_seconds = 0.0
        self.max_idle_closed = 0
        self.max_lifetime_closed = 0

    @property
    def in_use(self) -> int:
        return sum(self._holders.values())

    def stats(self) -> dict[str, Any]:
        return {
            "max_open_connections": self.max_open,
            "open_connections": self._open,
            "in_use": self.in_use,
            "idle": len(self._idle),
            "wait_count": self.wait_count,
            "wait_duration": f"{self.wait_seconds:.6f}s",
            "max_idle_closed": self.max_idle_closed,
            "max_idle_time_closed": 0,
            "max_lifetime_closed": self.max_lifetime_closed,
        }

    def _expired(self, conn: Connection) -> bool:
        return time.monotonic() - conn.born > self.lifetime

    def take_idle(self, owner: Hashable) -> Connection | None:
        """An idle connection for `owner` now, or None (no waiting, no connecting)."""
        if self._closed:
            return None
        while self._idle:
            conn = self._idle.popleft()
            if conn.alive() and not self._expired(conn):
                self._holders[owner] += 1
                return conn
            if conn.alive():
                self.max_lifetime_closed += 1
            self._discard(conn)
        return None

    async def acquire(self, owner: Hashable) -> Connection:
        if self._closed:
            raise unavailable(f"database {self.name} is closed")
        started: float | None = None
        deadline = time.monotonic() + self.config.acquire_timeout
        while True:
            conn = self.take_idle(owner)
            if conn is not None:
                return conn
            if self._open < self.max_open:
                self._open += 1
                try:
                    conn = await self.driver.connect()
                except BaseException as exc:
                    self._open -= 1
                    self._wake_one()
                    if isinstance(exc, Exception):
                        raise self.driver.translate(exc)[0] from None
                    raise
                self._holders[owner] += 1
                return conn
            if owner is not None and self._holders[owner] >= self.in_use > 0:
                raise invalid(
                    f"database {self.name}: every connection ({self.max_open}) is held by this "
                    "process (an open transaction?); use the transaction, or commit or roll "
                    "it back first"
                )
            if started is None:
                started = time.monotonic()
                self.wait_count += 1
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, max(deadline - time.monotonic(), 0))
            except TimeoutError:
                raise unavailable(
                    f"database {self.name}: no connection free after "
                    f"{self.config.acquire_timeout:g}s (pool of {self.max_open})"
                ) from None
            finally:
                self.wait_seconds += time.monotonic() - started
                started = time.monotonic()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)

    def release(self, conn: Connection, owner: Hashable, broken: bool = False) -> None:
        self._holders[owner] -= 1
        if self._holders[owner] <= 0:
            del self._holders[owner]
        if broken or self._closed or not conn.alive():
            self._discard(conn)
        elif self._expired(conn):
            self.max_lifetime_closed += 1
            self._discard(conn)
        elif len(self._idle) >= self.max_idle and not self._waiters:
            self.max_idle_closed += 1
            self._discard(conn)
        else:
            self._idle.append(conn)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _discard(self, conn: Connection) -> None:
        self._open -= 1
        task = asyncio.get_running_loop().create_task(_close_quietly(conn))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        self._closed = True
        while self._idle:
            self._discard(self._idle.popleft())
        if self._closing:
            await asyncio.wait(list(self._closing), timeout=5)


async def _close_quietly(conn: Connection) -> None:
    with contextlib.suppress(Exception):
        await conn.close()


# -- databases and transactions --------------------------------------------------------------

Answer = Callable[[Any, ActorError | None], None]
"""How a threaded call answers: `(result, None)` or `(None, error)`, on the event loop."""


def _on_loop(future: Future[Any], answer: Callable[[Any, BaseException | None], None]) -> None:
    """Call `answer(result, exception)` on the current event loop once `future` is done."""
    loop = asyncio.get_running_loop()

    def settle(done: Future[Any]) -> None:
        exc = done.exception()
        answer(None if exc is not None else done.result(), exc)

    future.add_done_callback(lambda done: loop.call_soon_threadsafe(settle, done))


class Database:
    """A `db.sql.*` entry at run time: one pool; each call borrows a connection."""

    def __init__(self, entry_id: str, driver: Driver, config: PoolConfig) -> None:
        self.id = entry_id
        self.driver = driver
        self.kind = driver.kind
        self.pool = Pool(entry_id, driver, config)

    async def _with_connection(
        self, owner: Hashable, use: Callable[[Connection], Awaitable[Any]]
    ) -> Any:
        conn = await self.pool.acquire(owner)
        broken = False
        try:
            return await use(conn)
        except Exception as exc:
            error, broken = self.driver.translate(exc)
            raise error from None
        finally:
            self.pool.release(conn, owner, broken)

    async def query(self, sql: str, params: Params = (), owner: Hashable = None) -> list[Row]:
        return await self._with_connection(owner, lambda c: c.query(sql, params))

    async def execute(self, sql: str, params: Params = (), owner: Hashable = None) -> ExecResult:
        return await self._with_connection(owner, lambda c: c.execute(sql, params))

    def run_threaded(
        self, op: str, sql: str, params: Params, owner: Hashable, done: Answer
    ) -> bool:
        """`query`/`execute` on an idle connection's own thread, answered through `done` on
        the event loop (SQLite; see `Transaction.run_threaded`). False when no connection
        is idle now or the driver has no such path: use the coroutines."""
        conn = self.pool.take_idle(owner)
        if conn is None:
            return False
        submit = getattr(conn, "submit", None)
        if submit is None:
            self.pool.release(conn, owner)
            return False

        def answer(result: Any, exc: BaseException | None) -> None:
            error, broken = self.driver.translate(exc) if exc is not None else (None, False)
            self.pool.release(conn, owner, broken)
            done(result, error)

        _on_loop(submit(op, sql, params), answer)
        return True

    async def check(self, sql: str, owner: Hashable = None) -> None:
        await self._with_connection(owner, lambda c: c.check(sql))

    async def begin(
        self, owner: Hashable = None, isolation: str = "default", read_only: bool = False
    ) -> Transaction:
        if isolation not in ISOLATION_LEVELS:
            raise invalid(
                f"invalid isolation level {isolation!r} (one of {', '.join(ISOLATION_LEVELS)})"
            )
        conn = await self.pool.acquire(owner)
        try:
            await conn.begin(isolation, read_only)
        except Exception as exc:
            error, broken = self.driver.translate(exc)
            self.pool.release(conn, owner, broken)
            raise error from None
        return Transaction(self, conn, owner, read_only)

    async def close(self) -> None:
        await self.pool.close()


_tx_ids = itertools.count(1)


class Transaction:
    """A connection held from `begin` until commit, rollback or `abandon` (process exit).
    Calls on it run one at a time, so the final rollback never overlaps a running query."""

    def __init__(self, db: Database, conn: Connection, owner: Hashable, read_only: bool) -> None:
        self.db = db
        self.id = next(_tx_ids)
        self._conn = conn
        self._owner = owner
        self._read_only = read_only
        self._lock = asyncio.Lock()
        self.busy = 0
        """Calls waiting for the lock, holding it or on the connection's thread: while
        there are any, no statement runs inline (it would overtake them). One more from
        its end on (`_finish`), so that an inline runner, which finds it 0 before it runs
        anything, needs no other look to know the transaction is still active."""
        self.state = ACTIVE

    def inactive(self) -> ActorError:
        return invalid(f"transaction is not active (already {self.state})")

    def check_active(self) -> None:
        if self.state != ACTIVE:
            raise self.inactive()

    @contextlib.asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        self.busy += 1
        try:
            async with self._lock:
                yield
        finally:
            self.busy -= 1

    async def _use(self, use: Callable[[Connection], Awaitable[Any]]) -> Any:
        self.check_active()
        async with self._exclusive():
            self.check_active()
            try:
                return await use(self._conn)
            except Exception as exc:
                error, broken = self.db.driver.translate(exc)
                if broken:
                    self._finish("broken", broken=True)
                raise error from None

    async def query(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._use(lambda c: c.query(sql, params))

    async def execute(self, sql: str, params: Params = ()) -> ExecResult:
        return await self._use(lambda c: c.execute(sql, params))

    def run_threaded(self, op: str, sql: str, params: Params, done: Answer) -> bool:
        """`query`/`execute` on the connection's own thread, answered through `done` on the
        event loop, with no event-loop task per call (SQLite). Calls still run one at a
        time and in order: that thread takes them in order. False when the driver has no
        such path or a commit, rollback or savepoint is under way (use the coroutines:
        they wait for it)."""
        submit = getattr(self._conn, "submit", None)
        if submit is None or self._lock.locked():
            return False
        self.check_active()
        self.busy += 1

        def answer(result: Any, exc: BaseException | None) -> None:
            self.busy -= 1
            if exc is None:
                done(result, None)
                return
            error, broken = self.db.driver.translate(exc)
            if broken:
                self._finish("broken", broken=True)
            done(None, error)

        _on_loop(submit(op, sql, params), answer)
        return True

    def statements_now(
        self,
        budget: float | None,
        over_budget: Callable[[], None],
        param: Callable[[Any], Any],
        rows_out: Callable[[list[Row]], Any],
    ) -> PrepareNow | None:
        """The function that prepares this transaction's statements to run on the calling
        thread (`PrepareNow`, `RunNow`), for a driver and journal that allow it (SQLite
        with WAL or in memory), else None. `param` converts a parameter that is not a
        number, boolean, nil or string (`sqltypes.param`); `rows_out` the rows of a query.
        SQLite interrupts a statement past `budget` seconds of CPU (None: no limit), and
        `over_budget()` is called then, before the statement's error is answered (the
        caller's budget starts over, so that error is the one its process fails with:
        `ModuleHost.restart_budget`)."""
        conn = self._conn
        if not isinstance(conn, SqliteConnection) or not conn.inline:
            return None
        return conn.statements_now(self, budget, over_budget, param, rows_out)

    def failed_now(
        self, exc: Exception, interrupted: bool, still_open: bool, budget: float | None
    ) -> ActorError:
        """The error of a statement run inline. One that made SQLite roll the transaction
        back by itself (an interrupted write, a full disk) ends the transaction here too."""
        error, broken = self.db.driver.translate(exc)
        if interrupted:
            error = OverBudget(
                f"ran for more than {budget:g}s without yielding (an SQL statement"
                + ("" if still_open else "; its transaction is rolled back")
                + ")"
            )
        if broken or not still_open:
            self._finish("broken" if broken else "rolled back", broken=broken)
            if not broken and not interrupted:
                message = f"{error.error.message} (the transaction is rolled back)"
                error = ActorError.of(attrs.evolve(error.error, message=message))
        return error

    async def check(self, sql: str) -> None:
        await self._use(lambda c: c.check(sql))

    async def savepoint(self, verb: str, name: str) -> None:
        if not name:
            raise invalid("savepoint name is empty")
        if not _SAVEPOINT_NAME.match(name):
            raise invalid(f"invalid savepoint name {name!r}: letters, digits and _ only")
        statement = {
            "savepoint": "SAVEPOINT ",
            "rollback_to": "ROLLBACK TO SAVEPOINT ",
            "release": "RELEASE SAVEPOINT ",
        }[verb]
        await self._use(lambda c: c.run(statement + name))

    async def commit(self) -> None:
        await self._end("COMMIT", "committed")

    async def rollback(self) -> None:
        await self._end("ROLLBACK", "rolled back")

    async def _end(self, statement: str, final: str) -> None:
        self.check_active()
        async with self._exclusive():
            self.check_active()
            broken = False
            try:
                await self._conn.run(statement)
            except Exception as exc:
                error, broken = self.db.driver.translate(exc)
                if statement == "COMMIT" and not broken:
                    with contextlib.suppress(Exception):
                        await self._conn.run("ROLLBACK")
                self._finish("failed", broken=broken)
                raise error from None
            self._finish(final)

    def _finish(self, state: str, broken: bool = False) -> None:
        if self.state != ACTIVE:
            return
        self.state = state
        self.busy += 1
        self.db.pool.release(self._conn, self._owner, broken)

    async def abandon(self) -> None:
        """Roll back if still open (its process exited without committing)."""
        if self.state != ACTIVE:
            return
        async with self._exclusive():
            if self.state != ACTIVE:
                return
            broken = False
            try:
                await self._conn.run("ROLLBACK")
            except Exception:
                broken = True
            self._finish("rolled back", broken=broken)
