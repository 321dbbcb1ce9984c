"""The `hash` module: digests, HMACs and non-cryptographic checksums (pure, deterministic,
so workflows may use it too).

- `md5`, `sha1`, `sha256`, `sha512(data, raw?)` → hex string, or the raw digest bytes when
  `raw` is true;
- `hmac_md5`, `hmac_sha1`, `hmac_sha256`, `hmac_sha512(data, secret, raw?)` → the same;
- `fnv32(data)`, `fnv64(data)` → FNV-1a as an integer (fnv64 values of 2^63 and more are
  negative Lua integers: the same 64 bits, two's complement);
- `crc32(data)` → the IEEE CRC-32 as an integer.

Every function returns `nil, err` (`Invalid`) when an argument is not a string.
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from collections.abc import Callable
from typing import Any

from actors.errors import invalid
from lua_bindings.contract import ModuleHost, nil_on_error
from lua_bindings.convert import lua_type_name
from lua_bindings.modules import LuaModule

FNV32_OFFSET, FNV32_PRIME = 0x811C9DC5, 0x01000193
FNV64_OFFSET, FNV64_PRIME = 0xCBF29CE484222325, 0x100000001B3


def _data(value: Any, what: str = "data") -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise invalid(f"hash: {what} must be a string, got {lua_type_name(value)}")


def _hex_or_raw(digest: bytes, raw: Any) -> bytes:
    return digest if raw is True else digest.hex().encode()


def fnv1a(data: bytes, offset: int, prime: int, bits: int) -> int:
    mask = (1 << bits) - 1
    h = offset
    for byte in data:
        h = ((h ^ byte) * prime) & mask
    return h


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _digest(name: str) -> Callable[..., Any]:
    def digest(data: Any = None, raw: Any = False, *_: Any) -> bytes:
        return _hex_or_raw(hashlib.new(name, _data(data)).digest(), raw)

    return nil_on_error(digest)


def _hmac(name: str) -> Callable[..., Any]:
    def mac(data: Any = None, secret: Any = None, raw: Any = False, *_: Any) -> bytes:
        key = _data(secret, "secret")
        return _hex_or_raw(hmac.new(key, _data(data), name).digest(), raw)

    return nil_on_error(mac)


def _functions(_host: ModuleHost) -> dict[str, Any]:
    functions: dict[str, Any] = {}
    for name in ("md5", "sha1", "sha256", "sha512"):
        functions[name] = _digest(name)
        functions[f"hmac_{name}"] = _hmac(name)
    functions["fnv32"] = nil_on_error(
        lambda data=None, *_: fnv1a(_data(data), FNV32_OFFSET, FNV32_PRIME, 32)
    )
    functions["fnv64"] = nil_on_error(
        lambda data=None, *_: _signed64(fnv1a(_data(data), FNV64_OFFSET, FNV64_PRIME, 64))
    )
    functions["crc32"] = nil_on_error(lambda data=None, *_: zlib.crc32(_data(data)))
    return functions


MODULE = LuaModule("hash", _functions, lua=False)
