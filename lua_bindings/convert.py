"""Converting values between a Lua state and Python.

Lua strings are byte strings, so states run with lupa `encoding=None`: Lua strings arrive as
`bytes`, and Python `str` must be encoded before it goes in. Going out, valid UTF-8 becomes
`str` (what Python hosts, JSON and Temporal expect) and anything else stays `bytes`.

A Lua table becomes a `list` when its keys are exactly 1..n (an empty table is an empty
list) and a `dict` otherwise. Runtime objects (errors, times, payloads...) are Python objects
already and pass through; Lua functions, coroutines and channels cannot leave a process.
"""

from __future__ import annotations

from typing import Any

import lupa.lua54 as lupa

from actors.errors import Error, invalid

MAX_DEPTH = 128

LUA_KINDS: dict[type, bytes] = {Error: b"error"}
"""Python classes that Lua sees as runtime objects, by kind name (the methods table)."""

SENDABLE: set[type] = {Error}
"""Runtime object classes that may cross a process boundary (they are msgpack extensions)."""


def lua_kind(cls: type, kind: str, *, sendable: bool = False) -> None:
    """Declare `cls` as a runtime object whose Lua methods live in `METHODS[kind]`."""
    LUA_KINDS[cls] = kind.encode()
    if sendable:
        SENDABLE.add(cls)


def kind_of(obj: Any) -> bytes | None:
    return LUA_KINDS.get(type(obj))


def sendable_kind(kind: bytes) -> bool:
    """Whether runtime objects of `kind` may cross to another process as they are."""
    return any(LUA_KINDS.get(cls) == kind for cls in SENDABLE)


_lua_type = lupa.lua_type
_SCALARS = (bool, int, float)


def text(value: Any) -> str:
    """A Lua string argument as Python text (invalid UTF-8 is kept via surrogateescape)."""
    if type(value) is bytes:
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, str):
        return value
    raise invalid(f"expected a string, got {lua_type_name(value)}")


def from_lua(value: Any, depth: int = 0) -> Any:
    """A private Python copy of a Lua value, or `Invalid` naming what cannot cross."""
    if value is None or type(value) in _SCALARS:
        return value
    if type(value) is bytes:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    kind = _lua_type(value)
    if kind == "table":
        if depth >= MAX_DEPTH:
            raise invalid(
                "value cannot be sent to another process: it contains a cycle "
                f"or is nested deeper than {MAX_DEPTH}"
            )
        return _table_from_lua(value, depth + 1)
    if kind is None:
        cls = type(value)
        if cls in SENDABLE:
            return value
        unwrap = getattr(value, "__lua_unwrap__", None)
        if unwrap is not None:
            return unwrap()
    raise invalid(f"value of type {lua_type_name(value)} cannot be sent to another process")


def _table_from_lua(table: Any, depth: int) -> Any:
    items = [(from_key(k), from_lua(v, depth)) for k, v in table.items()]
    n = len(items)
    if n == 0:
        return []
    if all(type(k) is int for k, _ in items):
        items.sort(key=lambda kv: kv[0])
        if items[0][0] == 1 and items[-1][0] == n:
            return [v for _, v in items]
    return dict(items)


def from_key(key: Any) -> Any:
    if type(key) is bytes:
        try:
            return key.decode("utf-8")
        except UnicodeDecodeError:
            return key
    if type(key) is float and key.is_integer():
        return int(key)
    if type(key) in _SCALARS:
        return key
    raise invalid(f"table key of type {lua_type_name(key)} cannot be sent to another process")


def lua_type_name(value: Any) -> str:
    kind = _lua_type(value)
    if kind is not None:
        return kind
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str | bytes):
        return "string"
    name = LUA_KINDS.get(type(value))
    return name.decode() if name else "userdata"


class ToLua:
    """Builds Lua values in one runtime. Created once per Lua state."""

    __slots__ = ("_table", "_table_from")

    def __init__(self, runtime: lupa.LuaRuntime) -> None:
        self._table = runtime.table
        self._table_from = runtime.table_from

    def __call__(self, value: Any) -> Any:
        cls = type(value)
        if cls is str:
            return value.encode("utf-8", "surrogateescape")
        if value is None or cls in _SCALARS or cls is bytes:
            return value
        if cls is dict:
            return self._table_from({self(k): self(v) for k, v in value.items()})
        if cls is list or cls is tuple:
            return self._table(*[self(v) for v in value])
        return value
