"""The `payload` global (lua-api §10). Payloads are Lua tables (core.lua); Python only
decodes and encodes the serialised formats."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import ActorError, Error
from actors.values import pack_value, unpack_value
from lua_bindings import jsoncodec
from lua_bindings.convert import from_lua, text
from lua_bindings.modules import LuaModule

if TYPE_CHECKING:
    from lua_bindings.host import LuaHost

LUA = "lua/any"
FORMATS = {
    "JSON": "json/plain",
    "YAML": "yaml/plain",
    "STRING": "text/plain",
    "BYTES": "application/octet-stream",
    "MSGPACK": "application/msgpack",
    "LUA": LUA,
    "GOLANG": "golang/any",
    "ERROR": "golang/error",
}


def decode(value: Any, fmt: str) -> Any:
    """Plain data from a serialised payload value."""
    try:
        if fmt == FORMATS["JSON"]:
            return jsoncodec.decode(value)
        if fmt == FORMATS["MSGPACK"]:
            return unpack_value(value)
        if fmt == FORMATS["YAML"]:
            import yaml

            return yaml.safe_load(value)
    except ActorError:
        raise
    except Exception as exc:
        raise ActorError(Error(f"cannot decode {fmt}: {exc}", errors.INTERNAL, False)) from exc
    return value


def encode(value: Any, fmt: str) -> Any:
    if fmt in (LUA, FORMATS["GOLANG"], FORMATS["ERROR"]):
        return value
    if fmt == FORMATS["JSON"]:
        return jsoncodec.encode(value)
    if fmt in (FORMATS["STRING"], FORMATS["BYTES"]):
        return value if isinstance(value, str | bytes) else jsoncodec.encode(value)
    if fmt == FORMATS["MSGPACK"]:
        return pack_value(value)
    if fmt == FORMATS["YAML"]:
        import yaml

        return yaml.safe_dump(value)
    raise ActorError(Error(f"unsupported payload format: {fmt}", errors.INTERNAL, False))


def _functions(host: LuaHost) -> dict[str, Any]:
    def payload_decode(value: Any, fmt: Any) -> tuple[Any, ...]:
        try:
            return (host.lua(decode(from_lua(value), text(fmt))),)
        except ActorError as exc:
            return None, exc.error

    def payload_transcode(value: Any, fmt: Any) -> tuple[Any, ...]:
        try:
            return (host.lua(encode(from_lua(value), text(fmt))),)
        except ActorError as exc:
            return None, exc.error

    return {
        "formats": dict(FORMATS),
        "payload_decode": payload_decode,
        "payload_transcode": payload_transcode,
    }


MODULE = LuaModule("payload", _functions)
