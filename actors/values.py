"""Copying values across a process boundary.

Processes share nothing, exactly as in Erlang: a value sent, spawned with or returned is
copied. msgpack is the wire form, so the copy is also proof that the value can travel to
another node or into Temporal. Hosts register extension types (Time, Duration, Payload...) for
values that must survive the trip as the same kind of value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack

from actors.errors import ActorError, Error, invalid
from actors.pid import PID

_IMMUTABLE = (type(None), bool, int, float, str, bytes)

_ERROR_CODE = 1
_packers: dict[type, tuple[int, Callable[[Any], Any]]] = {}
_unpackers: dict[int, Callable[[Any], Any]] = {}


def register_ext(
    cls: type, code: int, pack: Callable[[Any], Any], unpack: Callable[[Any], Any]
) -> None:
    """Let values of `cls` cross boundaries: `pack` gives plain data, `unpack` rebuilds it."""
    if code in _unpackers and _packers.get(cls, (None,))[0] != code:
        raise ValueError(f"msgpack extension code {code} is already registered")
    _packers[cls] = (code, pack)
    _unpackers[code] = unpack


def _default(obj: Any) -> Any:
    if type(obj) is PID:
        return str(obj)  # a PID travels as its text, the form Lua code knows it in
    entry = _packers.get(type(obj))
    if entry is None:
        raise invalid(f"value of type {type_name(obj)} cannot be sent to another process")
    code, pack = entry
    return msgpack.ExtType(code, _pack(pack(obj)))


def _ext_hook(code: int, data: bytes) -> Any:
    unpack = _unpackers.get(code)
    if unpack is None:
        return msgpack.ExtType(code, data)
    return unpack(unpack_value(data))


def _pack(value: Any) -> bytes:
    try:
        packed: bytes = msgpack.packb(
            value, default=_default, use_bin_type=True, strict_types=False
        )
        return packed
    except ActorError:
        raise
    except (ValueError, OverflowError) as exc:
        if "recursion" in str(exc) or "deep" in str(exc):
            raise invalid("value cannot be sent to another process: it contains a cycle") from exc
        raise invalid(f"value cannot be sent to another process: {exc}") from exc
    except TypeError as exc:
        raise invalid(f"value cannot be sent to another process: {exc}") from exc


def pack_value(value: Any) -> bytes:
    """Encode a value in the wire form; raise `Invalid` naming what cannot cross."""
    return _pack(value)


def unpack_value(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)


def copy_value(value: Any) -> Any:
    """Return a copy that shares nothing with `value` (immutable scalars are their own copy)."""
    if isinstance(value, _IMMUTABLE):
        return value
    return unpack_value(_pack(value))


def type_name(obj: Any) -> str:
    """The name users see in "cannot be sent" errors; hosts may override via `__type_name__`."""
    return getattr(obj, "__type_name__", None) or type(obj).__name__


register_ext(Error, _ERROR_CODE, Error.to_dict, Error.from_dict)
