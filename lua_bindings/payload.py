"""Payload values (lua-api §10): data with a format, as seen by Lua."""

from __future__ import annotations

from typing import Any

import attrs

LUA = "lua/any"
ERROR = "golang/error"
FORMATS = {
    "JSON": "json/plain",
    "YAML": "yaml/plain",
    "STRING": "text/plain",
    "BYTES": "application/octet-stream",
    "MSGPACK": "application/msgpack",
    "LUA": LUA,
    "GOLANG": "golang/any",
    "ERROR": ERROR,
}


@attrs.frozen
class Payload:
    """Wraps a Python value. Sent to another process, it travels as the data it wraps."""

    value: Any
    format: str = LUA

    def __lua_unwrap__(self) -> Any:
        return self.value

    def __str__(self) -> str:
        return f"payload({self.format})"
