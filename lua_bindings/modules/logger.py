"""The `logger` module and the `print` global: structured logging through Python `logging`.

Lua API (`logger.lua`):

- `logger.debug(msg, fields?)`, `logger.info(...)`, `logger.warn(...)` (also `warning`),
  `logger.error(...)`: one log record; `fields` is a table of extra key/values. Method calls
  work too (`logger:info("x", {a = 1})`), as Wippy code writes them.
- `logger.with(fields)` → a child logger whose records carry `fields` as well (a call's own
  fields win on conflict); children chain. `logger.named(name)` → a child logger whose
  Python logger name is extended with `.name`.
- Nothing is returned and nothing raises: logging never fails the caller (values that
  cannot be converted are logged as their type name).

`print(...)` (lua-api §3.2) is a global of every process: its arguments, converted with
`tostring` and joined by tabs, become one INFO record. It never writes to stdout.

Records: logger name `app.<entry id>` (plus `.name` for named loggers), the message followed
by ` key=value` pairs for the fields (sorted by key, values as JSON unless plain words), and
these attributes for structured handlers: `pid` (the process PID string), `entry` (its entry
id), `fields` (dict) and `lua_message` (the message alone).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import lupa.lua54 as lupa

from actors.errors import Error
from corelib import jsoncodec
from lua_bindings.contract import ModuleHost
from lua_bindings.modules import LuaModule

LOGGER_ROOT = "app"
LEVELS = {
    b"debug": logging.DEBUG,
    b"info": logging.INFO,
    b"warn": logging.WARNING,
    b"error": logging.ERROR,
}
_MAX_DEPTH = 16
_lua_type = lupa.lua_type
_PLAIN_WORD = re.compile(r"[^\s\"=]+")


def _text(value: Any) -> str:
    if type(value) is bytes:
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def log_value(value: Any, depth: int = 0) -> Any:
    """A Lua value as plain, JSON-able data for a log record; never raises."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is bytes:
        return _text(value)
    kind = _lua_type(value)
    if kind == "table":
        if depth >= _MAX_DEPTH:
            return "{...}"
        items = [(k, v) for k, v in value.items()]
        if items and all(type(k) is int for k, _ in items):
            items.sort(key=lambda kv: kv[0])
            if items[0][0] == 1 and items[-1][0] == len(items):
                return [log_value(v, depth + 1) for _, v in items]
        if not items:
            return []
        return {_text(k): log_value(v, depth + 1) for k, v in items}
    if kind is not None:
        return f"<{kind}>"
    if isinstance(value, Error):
        return str(value)
    return str(value)


def log_fields(table: Any) -> dict[str, Any]:
    if table is None:
        return {}
    converted = log_value(table)
    if isinstance(converted, dict):
        return converted
    if converted == []:
        return {}
    return {"fields": converted}


def _render(value: Any) -> str:
    if isinstance(value, str) and _PLAIN_WORD.fullmatch(value):
        return value
    try:
        return jsoncodec.encode(value)
    except Exception:
        return repr(value)


def format_message(message: str, fields: dict[str, Any]) -> str:
    if not fields:
        return message
    pairs = " ".join(f"{key}={_render(fields[key])}" for key in sorted(fields))
    return f"{message} {pairs}" if message else pairs


class LogFunctions:
    def __init__(self, host: ModuleHost) -> None:
        self.host = host

    def _target(self, name: Any) -> tuple[logging.Logger, str, str]:
        """The Python logger for the current process (and logger name), its PID and entry."""
        process = self.host.running
        pid = entry = ""
        if process is not None:
            pid = str(process.pid)
            entry = process.entry.id if process.entry is not None else ""
        logger_name = f"{LOGGER_ROOT}.{entry or 'unknown'}"
        if name:
            logger_name = f"{logger_name}.{_text(name)}"
        return logging.getLogger(logger_name), pid, entry

    def log(self, level: Any, name: Any, message: Any, base: Any = None, extra: Any = None) -> None:
        """`logger.lua` calls this with the level name, the logger's name (or nil), the
        message (already a string), the logger's own fields and the call's fields."""
        number = LEVELS.get(level, logging.INFO)
        logger, pid, entry = self._target(name)
        if not logger.isEnabledFor(number):
            return
        fields = log_fields(base)
        fields.update(log_fields(extra))
        _emit(logger, number, pid, entry, _text(message), fields)

    def print(self, message: Any) -> None:
        logger, pid, entry = self._target(None)
        if logger.isEnabledFor(logging.INFO):
            _emit(logger, logging.INFO, pid, entry, _text(message), {})


def _emit(
    logger: logging.Logger, level: int, pid: str, entry: str, message: str, fields: dict[str, Any]
) -> None:
    logger.log(
        level,
        "%s",
        format_message(message, fields),
        extra={"pid": pid, "entry": entry, "fields": fields, "lua_message": message},
    )


def _functions(host: ModuleHost) -> dict[str, Any]:
    fns = LogFunctions(host)
    return {"log": fns.log, "print": fns.print}


MODULE = LuaModule("logger", _functions)
