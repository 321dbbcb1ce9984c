"""Key-value stores: `store.memory` (in this node's memory) and `store.sql` (a table of a
`db.sql.*` database). Values are kept in the wire form (`actors.values`), so what a reader
gets is always its own copy, and anything a process may send can be stored.

A key may carry a time to live (seconds; 0 or none: forever). Expired keys are invisible at
once and removed by a sweep every `cleanup_interval` (default 5 minutes).

`store.memory` holds at most `max_size` keys (default 10 000): setting a new key in a full
store fails ("store is full") rather than silently dropping another key.
"""

from __future__ import annotations

import re
import time
from typing import Any

from actors import errors
from actors.errors import ActorError, invalid
from actors.values import pack_value, unpack_value
from data_modules import sqldb

DEFAULT_MAX_SIZE = 10_000
DEFAULT_CLEANUP = 300.0
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


def not_found(key: str) -> ActorError:
    return errors.not_found(f"key not found: {key}")


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise invalid("key is empty" if key == "" else "key must be a non-empty string")
    return key


def expiry(ttl: Any) -> float | None:
    if ttl is None or ttl == 0:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl < 0:
        raise invalid(f"ttl must be a number of seconds >= 0, got {ttl!r}")
    return time.time() + ttl


class MemoryStore:
    def __init__(self, max_size: int = DEFAULT_MAX_SIZE, cleanup: float = DEFAULT_CLEANUP) -> None:
        self.max_size = max_size
        self.cleanup = cleanup
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._next_sweep = time.monotonic() + cleanup

    def _live(self, key: str) -> bytes | None:
        found = self._data.get(key)
        if found is None:
            return None
        packed, expires = found
        if expires is not None and expires <= time.time():
            del self._data[key]
            return None
        return packed

    async def get(self, key: str) -> Any:
        packed = self._live(key)
        if packed is None:
            raise not_found(key)
        return unpack_value(packed)

    async def set(self, key: str, value: Any, ttl: Any = None) -> None:
        packed, expires = pack_value(value), expiry(ttl)
        if key not in self._data and len(self._data) >= self.max_size:
            self.sweep()
            if len(self._data) >= self.max_size:
                raise errors.error(errors.RATE_LIMITED, f"store is full (max_size {self.max_size})")
        self._data[key] = (packed, expires)

    async def has(self, key: str) -> bool:
        return self._live(key) is not None

    async def delete(self, key: str) -> bool:
        live = self._live(key) is not None
        self._data.pop(key, None)
        return live

    def sweep(self) -> None:
        now = time.time()
        for key in [k for k, (_, e) in self._data.items() if e is not None and e <= now]:
            del self._data[key]

    async def tick(self) -> None:
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.cleanup
            self.sweep()

    def __len__(self) -> int:
        return len(self._data)


class SqlStore:
    """Keys in a table `(key TEXT PRIMARY KEY, value BLOB, expires_at REAL)` (column names
    configurable), created when missing."""

    def __init__(
        self,
        db: sqldb.Database,
        table: str,
        key_column: str = "key",
        value_column: str = "value",
        expire_column: str = "expires_at",
        cleanup: float = DEFAULT_CLEANUP,
    ) -> None:
        for what, name in (
            ("table_name", table),
            ("id_column_name", key_column),
            ("payload_column_name", value_column),
            ("expire_column_name", expire_column),
        ):
            if not isinstance(name, str) or not _IDENTIFIER.match(name):
                raise invalid(f"{what}: {name!r} is not a plain SQL identifier")
        self.db = db
        self.cleanup = cleanup
        self._ready = False
        self._next_sweep = time.monotonic() + cleanup
        blob = "BYTEA" if db.kind == sqldb.POSTGRES else "BLOB"
        real = "DOUBLE PRECISION" if db.kind == sqldb.POSTGRES else "REAL"
        t, k, v, e = table, key_column, value_column, expire_column
        n = (lambda i: f"${i}") if db.kind == sqldb.POSTGRES else (lambda i: "?")
        self._sql = {
            "create": f"CREATE TABLE IF NOT EXISTS {t} ({k} TEXT PRIMARY KEY, {v} {blob} NOT NULL, "
            f"{e} {real})",
            "get": f"SELECT {v} AS v, {e} AS e FROM {t} WHERE {k} = {n(1)}",
            "set": f"INSERT INTO {t} ({k}, {v}, {e}) VALUES ({n(1)}, {n(2)}, {n(3)}) "
            f"ON CONFLICT ({k}) DO UPDATE SET {v} = excluded.{v}, {e} = excluded.{e}",
            "delete": f"DELETE FROM {t} WHERE {k} = {n(1)} AND ({e} IS NULL OR {e} > {n(2)})",
            "purge": f"DELETE FROM {t} WHERE {k} = {n(1)}",
            "sweep": f"DELETE FROM {t} WHERE {e} IS NOT NULL AND {e} <= {n(1)}",
        }

    async def _ensure(self) -> None:
        if not self._ready:
            await self.db.execute(self._sql["create"])
            self._ready = True

    async def _row(self, key: str) -> bytes | None:
        await self._ensure()
        rows = await self.db.query(self._sql["get"], [key])
        if not rows:
            return None
        expires = rows[0]["e"]
        if expires is not None and expires <= time.time():
            return None
        return bytes(rows[0]["v"])

    async def get(self, key: str) -> Any:
        packed = await self._row(key)
        if packed is None:
            raise not_found(key)
        return unpack_value(packed)

    async def set(self, key: str, value: Any, ttl: Any = None) -> None:
        packed, expires = pack_value(value), expiry(ttl)
        await self._ensure()
        await self.db.execute(self._sql["set"], [key, packed, expires])

    async def has(self, key: str) -> bool:
        return await self._row(key) is not None

    async def delete(self, key: str) -> bool:
        await self._ensure()
        result = await self.db.execute(self._sql["delete"], [key, time.time()])
        if result.rows_affected == 0:
            await self.db.execute(self._sql["purge"], [key])  # an expired leftover
        return result.rows_affected > 0

    async def tick(self) -> None:
        if self._ready and time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.cleanup
            await self.db.execute(self._sql["sweep"], [time.time()])
