"""The `payload` global (lua-api §10). Payloads are Lua tables (core.lua); Python only
decodes and encodes the serialised formats."""

from __future__ import annotations

from typing import Any

from actors.errors import ActorError, InternalError
from actors.values import pack_value, unpack_value
from corelib import jsoncodec
from lua_bindings.contract import ModuleHost, nil_on_error
from lua_bindings.convert import from_lua, text
from lua_bindings.modules import LuaModule

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
        raise InternalError(f"cannot decode {fmt}: {exc}") from exc
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
    raise InternalError(f"unsupported payload format: {fmt}")


def _functions(host: ModuleHost) -> dict[str, Any]:
    @nil_on_error
    def payload_decode(value: Any, fmt: Any) -> Any:
        return host.lua(decode(from_lua(value), text(fmt)))

    @nil_on_error
    def payload_transcode(value: Any, fmt: Any) -> Any:
        return host.lua(encode(from_lua(value), text(fmt)))

    return {
        "formats": dict(FORMATS),
        "payload_decode": payload_decode,
        "payload_transcode": payload_transcode,
    }


MODULE = LuaModule("payload", _functions)
