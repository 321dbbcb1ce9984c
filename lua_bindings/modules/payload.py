"""The `payload` global (lua-api §10)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import ActorError, Error
from lua_bindings import jsoncodec
from lua_bindings.convert import from_lua, lua_kind, text
from lua_bindings.modules import LuaModule
from lua_bindings.payload import ERROR, FORMATS, LUA, Payload

if TYPE_CHECKING:
    from lua_bindings.host import LuaHost


def _decode(payload: Payload) -> Any:
    """The payload's value as plain data, decoding serialised formats."""
    fmt, value = payload.format, payload.value
    try:
        if fmt == FORMATS["JSON"] and isinstance(value, bytes | str):
            return jsoncodec.decode(value)
        if fmt == FORMATS["MSGPACK"] and isinstance(value, bytes):
            from actors.values import unpack_value

            return unpack_value(value)
        if fmt == FORMATS["YAML"] and isinstance(value, bytes | str):
            import yaml

            return yaml.safe_load(value)
    except ActorError:
        raise
    except Exception as exc:
        raise ActorError(Error(f"cannot transcode {fmt}: {exc}", errors.INTERNAL, False)) from exc
    return value


def _functions(host: LuaHost) -> dict[str, Any]:
    def new(value: Any = None) -> Payload:
        try:
            data = from_lua(value)
        except ActorError:
            data = None
        return Payload(data, ERROR if isinstance(data, Error) else LUA)

    def get_format(payload: Payload) -> bytes:
        return payload.format.encode()

    def data(payload: Payload) -> Any:
        # One value on success (not `value, nil`): `send(to, t, p:data())` must send the
        # value itself, not a two-element array.
        try:
            return host.lua(_decode(payload))
        except ActorError as exc:
            return None, exc.error

    def transcode(payload: Payload, fmt: Any) -> tuple[Any, ...]:
        target = text(fmt)
        try:
            value = _decode(payload)
            if target == LUA or target == FORMATS["GOLANG"]:
                return Payload(value, target), None
            if target == FORMATS["JSON"]:
                return Payload(jsoncodec.encode(value), target), None
            if target == FORMATS["STRING"]:
                return Payload(value if isinstance(value, str | bytes) else str(value), target), None
            if target == FORMATS["MSGPACK"]:
                from actors.values import pack_value

                return Payload(pack_value(value), target), None
            raise ActorError(Error(f"unsupported payload format: {target}", errors.INTERNAL, False))
        except ActorError as exc:
            return None, exc.error

    return {
        "new": new,
        "get_format": get_format,
        "data": data,
        "transcode": transcode,
        "formats": dict(FORMATS),
    }


lua_kind(Payload, "payload")
MODULE = LuaModule("payload", _functions)
