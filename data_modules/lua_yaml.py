"""The `yaml` module: encode and decode with PyYAML's safe loader and dumper (pure, so
workflows may use it too).

- `yaml.encode(table)` → YAML text (keys sorted, block style), or `nil, err`: `Invalid` when
  the argument is not a table, `Internal` when it holds something YAML cannot carry
  (functions, channels...).
- `yaml.decode(text)` → the value (a table for mappings and sequences; scalars as they
  are), or `nil, err`: `Invalid` when the argument is not a string or is empty, `Internal`
  with the line and column for malformed YAML. Only plain data is ever built (the safe
  loader: no Python objects, no tags that run code); timestamps become RFC 3339 strings,
  binary scalars Lua strings.
"""

from __future__ import annotations

import datetime
from typing import Any

import yaml
from lupa.lua54 import lua_type

from actors import errors
from actors.errors import ActorError, invalid
from data_modules.bridge import Bridge
from lua_bindings.contract import ModuleHost, nil_on_error
from lua_bindings.convert import from_lua, lua_type_name
from lua_bindings.modules import LuaModule


def plain(value: Any) -> Any:
    """Decoded YAML as data Lua can hold: dates as text, keys as strings or numbers."""
    if isinstance(value, dict):
        return {_key(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def _key(key: Any) -> Any:
    if key is None or isinstance(key, bool | int | float | str | bytes):
        return key if key is not None else "null"
    return str(plain(key))


def encode(value: Any) -> bytes:
    if lua_type(value) != "table":
        raise invalid(f"yaml.encode expects a table, got {lua_type_name(value)}")
    try:
        data = from_lua(value)
    except ActorError as exc:
        raise errors.error(errors.INTERNAL, f"yaml.encode: {exc.error.message}") from None
    try:
        return yaml.safe_dump(data, sort_keys=True, allow_unicode=True).encode()
    except (yaml.YAMLError, TypeError) as exc:  # TypeError: keys that cannot be sorted
        raise errors.error(errors.INTERNAL, f"yaml.encode: {exc}") from None


def decode(text: Any) -> Any:
    if not isinstance(text, bytes | str):
        raise invalid(f"yaml.decode expects a string, got {lua_type_name(text)}")
    if not text.strip():
        raise invalid("yaml.decode: empty input")
    try:
        return plain(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise errors.error(errors.INTERNAL, f"yaml.decode: invalid YAML{at}: {problem}") from None


def _functions(host: ModuleHost) -> dict[str, Any]:
    bridge = Bridge(host)
    return {
        "encode": nil_on_error(lambda value=None, *_: encode(value)),
        "decode": nil_on_error(lambda text=None, *_: bridge.lua(decode(text))),
    }


MODULE = LuaModule("yaml", _functions, lua=False)
