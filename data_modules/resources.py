"""The data resources of one app, built from its registry entries on first use.

`Resources.of(registry)` is what every data module asks for: databases (`db.sql.*`), stores
(`store.*`), env storages and variables (`env.*`) and directories (`fs.directory`) by entry
id. They are built lazily (an app that never queries PostgreSQL never connects) and closed
when the node stops (`serve`, started by the plugin).

Entry fields (the YAML reference is docs/reference/kinds/):

- `db.sql.sqlite`: `file` (relative to the entry's YAML folder, or `:memory:`), `pool`
  (`max_open`, `max_idle`, `max_lifetime`, `acquire_timeout`), `options` (PRAGMAs).
- `db.sql.postgres`: `dsn`, or `host`, `port`, `database`, `username`, `password` (each also as
  `<field>_env`: the name of an environment variable), `pool`, `options` (server settings),
  `connect_timeout`. `${env:NAME}` in any field is replaced when the app loads (the
  registry does it for every entry).
"""

from __future__ import annotations

import contextlib
import logging
import os
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import anyio

from actors import errors
from actors.errors import ActorError, invalid
from actors.registry import Entry, Registry
from corelib import gotime
from data_modules import sqldb

log = logging.getLogger(__name__)

SQL_KINDS = frozenset({"db.sql.sqlite", "db.sql.postgres"})
STORE_KINDS = frozenset({"store.memory", "store.sql"})


def seconds(value: Any, field: str) -> float:
    """A duration field: a number of seconds or a Go duration string ("5m", "1h30m")."""
    if isinstance(value, bool):
        raise invalid(f"{field}: expected a duration, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    try:
        return gotime.parse_duration(value) / gotime.SECOND
    except Exception as exc:
        raise invalid(f"{field}: invalid duration {value!r}") from exc


def _int(value: Any, field: str, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"{field}: expected a non-negative integer, got {value!r}")
    return value


def pool_config(entry: Entry) -> sqldb.PoolConfig:
    pool = entry.data.get("pool") or {}
    if not isinstance(pool, dict):
        raise invalid("pool: expected a mapping")
    lifetime = pool.get("max_lifetime")
    timeout = pool.get("acquire_timeout")
    config = sqldb.PoolConfig(
        max_open=_int(pool.get("max_open"), "pool.max_open"),
        max_idle=_int(pool.get("max_idle"), "pool.max_idle"),
        max_lifetime=seconds(lifetime, "pool.max_lifetime") if lifetime is not None else 3600.0,
        acquire_timeout=seconds(timeout, "pool.acquire_timeout") if timeout is not None else 30.0,
    )
    if config.max_lifetime <= 0 or config.acquire_timeout <= 0:
        raise invalid("pool: max_lifetime and acquire_timeout must be positive")
    return config


def base_dir(entry: Entry) -> Path:
    return entry.file.parent if entry.file is not None else Path.cwd()


def sqlite_driver(entry: Entry) -> sqldb.SqliteDriver:
    file = entry.data.get("file")
    if not isinstance(file, str) or not file:
        raise invalid("missing file (a path, or :memory:)")
    if file != ":memory:" and not file.startswith("file:"):
        file = str(base_dir(entry) / file)
    options = entry.data.get("options") or {}
    if not isinstance(options, dict):
        raise invalid("options: expected a mapping of PRAGMA names to values")
    return sqldb.SqliteDriver(file, sqldb.SqliteDriver.check_options(dict(options)))


def postgres_driver(entry: Entry, getenv: Callable[[str], str | None]) -> sqldb.PostgresDriver:
    data = entry.data

    def field(name: str) -> Any:
        value = data.get(name)
        env_name = data.get(f"{name}_env")
        if value in (None, "") and isinstance(env_name, str) and env_name:
            value = getenv(env_name)
            if value is None:
                raise invalid(f"{name}_env: environment variable {env_name} is not set")
        return value

    args: dict[str, Any] = {}
    dsn = field("dsn")
    if dsn:
        args["dsn"] = dsn
    else:
        missing = [n for n in ("host", "database", "username") if not field(n)]
        if missing:
            raise invalid(f"missing {', '.join(missing)} (or give a dsn)")
        port = field("port") or 5432
        try:
            args["port"] = int(port)
        except (TypeError, ValueError):
            raise invalid(f"port: expected a number, got {port!r}") from None
        args.update(host=field("host"), database=field("database"), user=field("username"))
        password = field("password")
        if password:
            args["password"] = password
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise invalid("options: expected a mapping of server settings")
    if options:
        args["server_settings"] = {str(k): str(v) for k, v in options.items()}
    timeout = data.get("connect_timeout")
    return sqldb.PostgresDriver(
        args, seconds(timeout, "connect_timeout") if timeout is not None else 5.0
    )


class Resources:
    """The data resources of one registry (one app)."""

    _all: ClassVar[weakref.WeakKeyDictionary[Registry, Resources]] = weakref.WeakKeyDictionary()

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._databases: dict[str, sqldb.Database] = {}
        self._built: dict[tuple[str, str], Any] = {}
        self._env: Any = None

    @property
    def env(self) -> Any:
        """The app's `envstore.Env` (built on first use)."""
        if self._env is None:
            from data_modules.envstore import Env

            self._env = Env(self.registry)
        return self._env

    @staticmethod
    def getenv(name: str) -> str | None:
        """The variable a `<field>_env` entry field names (the process environment)."""
        return os.environ.get(name)

    @classmethod
    def of(cls, registry: Registry) -> Resources:
        found = cls._all.get(registry)
        if found is None:
            found = cls._all[registry] = cls(registry)
        return found

    def entry(self, entry_id: str, kinds: frozenset[str], what: str) -> Entry:
        """The entry `entry_id` of one of `kinds`: `NotFound` or `Invalid` otherwise."""
        if not entry_id:
            raise invalid(f"{what} id is empty")
        entry = self.registry.get(entry_id)
        if entry is None:
            raise errors.not_found(f"{what} not found: {entry_id}")
        if entry.kind not in kinds:
            raise invalid(f"{entry_id} is a {entry.kind}, not a {what}")
        return entry

    def database(self, entry_id: str) -> sqldb.Database:
        entry = self.entry(entry_id, SQL_KINDS, "database")
        db = self._databases.get(entry.id)
        if db is None:
            try:
                if entry.kind == "db.sql.sqlite":
                    driver: Any = sqlite_driver(entry)
                else:
                    driver = postgres_driver(entry, self.getenv)
                db = sqldb.Database(entry.id, driver, pool_config(entry))
            except ActorError as exc:
                raise invalid(f"database {entry.id}: {exc.error.message}") from None
            self._databases[entry.id] = db
        return db

    def store(self, entry_id: str) -> Any:
        from data_modules import kvstore

        entry = self.entry(entry_id, STORE_KINDS, "store")

        def build() -> Any:
            data = entry.data
            cleanup = data.get("cleanup_interval")
            interval = seconds(cleanup, "cleanup_interval") if cleanup else kvstore.DEFAULT_CLEANUP
            if entry.kind == "store.memory":
                size = _int(data.get("max_size"), "max_size") or kvstore.DEFAULT_MAX_SIZE
                return kvstore.MemoryStore(size, interval)
            database = data.get("database")
            if not isinstance(database, str) or not database:
                raise invalid(f"store {entry.id}: missing database (a db.sql.* entry id)")
            return kvstore.SqlStore(
                self.database(entry.resolve_ref(database)),
                data.get("table_name") or "",
                data.get("id_column_name") or "key",
                data.get("payload_column_name") or "value",
                data.get("expire_column_name") or "expires_at",
                interval,
            )

        return self.built("store", entry.id, build)

    def directory(self, entry_id: str) -> Any:
        from data_modules import fsdir

        entry = self.entry(entry_id, frozenset({"fs.directory"}), "filesystem")
        return self.built(
            "fs", entry.id, lambda: fsdir.from_entry(entry.id, entry.data, base_dir(entry))
        )

    def built(self, kind: str, entry_id: str, build: Callable[[], Any]) -> Any:
        """One object per (kind, entry): stores, storages, directories."""
        key = (kind, entry_id)
        found = self._built.get(key)
        if found is None:
            found = self._built[key] = build()
        return found

    async def serve(self) -> None:
        """Run while the node runs (periodic work of stores), then close every pool."""
        try:
            while True:
                await anyio.sleep(1.0)
                for obj in list(self._built.values()):
                    tick = getattr(obj, "tick", None)
                    if tick is not None:
                        with contextlib.suppress(Exception):
                            await tick()
        finally:
            with anyio.CancelScope(shield=True):
                await self.close()

    async def close(self) -> None:
        databases, self._databases = list(self._databases.values()), {}
        for db in databases:
            try:
                await db.close()
            except Exception:
                log.exception("closing database %s failed", db.id)
