"""The `json` module (lua-api §11): the Python half. `json.lua` wraps it.

`corelib.jsoncodec` does the encoding, decoding and schema validation; this file only
turns Lua values into the plain data the codec takes. Conventions:

- `json.encode(v)` → `string` or `nil, err` (`Internal` for what cannot be encoded);
- `json.decode(s)` → `value` or `nil, err` (`Invalid` for empty input, `Internal` for
  malformed JSON);
- `json.validate(schema, v)` / `json.validate_string(schema, s)` → `true` or `false, err`
  (`Invalid`).

Runtime values (lua-api §11, "our choice"): a Time encodes as an RFC 3339 string with
nanoseconds (Go's `RFC3339Nano`, as Go's `encoding/json` writes times), a Duration as its
integer nanoseconds, an error object as `{message, kind, retryable, details}`. Payload tables
are replaced by their data in Lua (`json.lua`) before Python sees them, since Python cannot
see a table's metatable; the same Lua pass rejects functions, channels, messages and cycles.
Output is compact with object keys sorted, and every empty table is `[]`.
"""

from __future__ import annotations

from typing import Any

import lupa.lua54 as lupa

from actors import errors
from actors.errors import ActorError, Error, InternalError
from corelib import jsoncodec
from corelib.gotime import LAYOUTS, Duration, GoTime
from lua_bindings.contract import ModuleHost, false_on_error, nil_on_error
from lua_bindings.convert import lua_type_name
from lua_bindings.modules import LuaModule

MAX_DEPTH = jsoncodec.MAX_DEPTH
_RFC3339_NANO = LAYOUTS["RFC3339NANO"]
_lua_type = lupa.lua_type
_SCALARS = (bool, int, float, bytes, str)


def runtime_value(value: Any) -> Any:
    """The JSON form of a runtime object, or NotImplemented."""
    cls = type(value)
    if cls is GoTime:
        return value.format(_RFC3339_NANO)
    if cls is Duration:
        return value.ns
    if cls is Error:
        return {
            "message": value.message,
            "kind": value.kind,
            "retryable": value.retryable,
            "details": value.details,
        }
    return NotImplemented


def plain(value: Any, depth: int = 0) -> Any:
    """A Lua value (already passed through `json.lua`'s prepare) as codec input.

    Arrays (keys exactly 1..n, and every empty table) become lists, other tables dicts with
    their keys as they are, so the codec reports mixed keys and sparse arrays itself.
    """
    if value is None or type(value) in _SCALARS:
        return value
    kind = _lua_type(value)
    if kind == "table":
        if depth >= MAX_DEPTH:
            raise InternalError(f"cannot encode value nested deeper than {MAX_DEPTH} levels")
        items = [(_key(k), plain(v, depth + 1)) for k, v in value.items()]
        if not items:
            return []
        n = len(items)
        if all(type(k) is int for k, _ in items):
            items.sort(key=lambda kv: kv[0])
            if items[0][0] == 1 and items[-1][0] == n:
                return [v for _, v in items]
        return dict(items)
    if kind is None:
        replacement = runtime_value(value)
        if replacement is not NotImplemented:
            return replacement
    raise InternalError(f"cannot encode value of type {lua_type_name(value)}")


def _key(key: Any) -> Any:
    if type(key) is float and key.is_integer():
        return int(key)
    if type(key) in _SCALARS:
        return key
    raise InternalError(f"cannot encode table with key of type {lua_type_name(key)}")


def _functions(host: ModuleHost) -> dict[str, Any]:
    to_lua = host.lua

    @nil_on_error
    def encode(value: Any) -> bytes:
        try:
            return jsoncodec.encode(plain(value), runtime_value).encode("utf-8")
        except RecursionError:
            raise InternalError("cannot encode: value nested too deeply") from None

    @nil_on_error
    def decode(text: Any) -> Any:
        return to_lua(jsoncodec.decode(text))

    @false_on_error
    def validate(schema: Any, value: Any) -> bool:
        try:
            data = plain(value)
        except ActorError as exc:
            raise errors.invalid(f"validation failed: {exc.error.message}") from None
        jsoncodec.validate(_schema(schema), data)
        return True

    @false_on_error
    def validate_string(schema: Any, text: Any) -> bool:
        if text is not None and not isinstance(text, bytes | str):
            raise errors.invalid(
                f"json.validate_string expects a JSON string, got {lua_type_name(text)}"
            )
        jsoncodec.validate_string(_schema(schema), text)
        return True

    return {
        "encode": encode,
        "decode": decode,
        "validate": validate,
        "validate_string": validate_string,
    }


def _schema(schema: Any) -> Any:
    """A schema argument: JSON text as is, a table as plain data."""
    if schema is None or type(schema) in _SCALARS:
        return schema
    try:
        return plain(schema)
    except ActorError as exc:
        raise errors.invalid(f"invalid schema: {exc.error.message}") from None


MODULE = LuaModule("json", _functions)
