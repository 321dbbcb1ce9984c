"""Values between Lua and SQL, both ways.

In (Lua → driver): integers stay integers, floats floats, booleans booleans (SQLite stores
1/0), a string is text when it is valid UTF-8 and bytes otherwise, `sql.NULL` (or a hole in
the array) is NULL, a table is JSON text (for JSON/JSONB columns), and `sql.as.*` forces a
type. Out (driver → Lua): NULL is nil (the key is absent from the row), integers stay
integers, bytes are Lua strings, JSON/JSONB columns (and SQLite columns declared JSON) are
decoded into tables, BOOLEAN is a boolean; decimals become integers when integral and floats
otherwise, dates and times RFC 3339 text, UUIDs text.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import json
import uuid
from typing import Any

import attrs
from lupa.lua54 import lua_type

from actors.errors import ActorError, invalid
from lua_bindings.convert import from_lua, lua_kind, lua_type_name

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


class _Null:
    """`sql.NULL`: one object, userdata in Lua."""

    def __repr__(self) -> str:
        return "sql.NULL"

    __str__ = __repr__


NULL = _Null()
lua_kind(_Null, "sql.null")


@attrs.frozen
class Typed:
    """A value from `sql.as.int/float/text/binary`, already converted."""

    type: str
    value: Any

    def __str__(self) -> str:
        return f"sql.as.{self.type}({self.value!r})"


lua_kind(Typed, "sql.typed")


def typed(kind: Any, value: Any) -> Typed:
    """`sql.as.<kind>(value)`: the conversion happens here, so a bad value fails at once."""
    name = kind.decode() if isinstance(kind, bytes) else str(kind)
    if name == "int":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"sql.as.int expects a number, got {lua_type_name(value)}")
        if isinstance(value, float) and not value.is_integer():
            raise invalid(f"sql.as.int: {value} has a fractional part")
        return Typed("int", int(value))
    if name == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"sql.as.float expects a number, got {lua_type_name(value)}")
        return Typed("float", float(value))
    if name == "text":
        if isinstance(value, bytes):
            return Typed("text", value.decode("utf-8", "replace"))
        raise invalid(f"sql.as.text expects a string, got {lua_type_name(value)}")
    if name == "binary":
        if not isinstance(value, bytes | str):
            raise invalid(f"sql.as.binary expects a string, got {lua_type_name(value)}")
        return Typed("binary", value if isinstance(value, bytes) else value.encode())
    raise invalid(f"unknown sql.as type {name!r}")


def param(value: Any) -> Any:
    """One bind parameter as the driver takes it."""
    cls = type(value)
    if value is None or cls is bool or cls is int or cls is float:
        return value
    if cls is bytes:
        try:
            return value.decode()
        except UnicodeDecodeError:
            return value
    if cls is Typed:
        return value.value
    if value is NULL:
        return None
    if lua_type(value) == "table":
        try:
            return json.dumps(from_lua(value), separators=(",", ":"))
        except ActorError as exc:
            raise invalid(f"parameter cannot be stored as JSON: {exc.error.message}") from None
        except TypeError as exc:
            raise invalid(f"parameter cannot be stored as JSON: {exc}") from None
    raise invalid(f"cannot bind a {lua_type_name(value)} as a SQL parameter")


def params(table: Any) -> list[Any]:
    """The `params` array of a call (nil: none). Holes are NULL."""
    if table is None:
        return []
    if lua_type(table) != "table":
        raise invalid(f"params must be an array (table), got {lua_type_name(table)}")
    items = list(table.items())
    if not items:
        return []
    keys = [k for k, _ in items]
    if not all(type(k) is int and k >= 1 for k in keys):
        raise invalid("params must be an array: named parameters are not supported")
    out: list[Any] = [None] * max(keys)
    for k, v in items:
        out[k - 1] = param(v)
    return out


def column(value: Any) -> Any:
    """One column value as plain data for Lua."""
    cls = type(value)
    if value is None or cls in (bool, str, bytes, float):
        return value
    if cls is int:
        return value if INT64_MIN <= value <= INT64_MAX else float(value)
    if isinstance(value, decimal.Decimal):
        if value == value.to_integral_value() and INT64_MIN <= value <= INT64_MAX:
            return int(value)
        return float(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, list | tuple):
        return [column(v) for v in value]
    if isinstance(value, dict):
        return {k: column(v) for k, v in value.items()}
    return str(value)


def rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: column(v) for k, v in row.items()} for row in found]
