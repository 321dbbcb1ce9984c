"""The `crypto` module (lua-api §12.2), bound to the pure-Python core `corelib.cryptolib`.

The module table is nested as in Wippy: `crypto.random.{bytes,string,uuid}`,
`crypto.hmac.{sha256,sha512}`, `crypto.encrypt.{aes,chacha20}`,
`crypto.decrypt.{aes,chacha20}`, `crypto.jwt.{encode,verify}`, `crypto.pbkdf2` and
`crypto.constant_time_compare`.

Lua conventions: the value alone on success, `nil, err` on failure;
`constant_time_compare` returns a bare boolean. Binary results (random bytes, ciphertexts,
derived keys) are Lua strings holding the raw bytes. Bad arguments are `Invalid`;
cryptographic failures (decryption, bad or expired tokens) are `Internal`.

Hooks for workflows (lua-api §12): random bytes (`crypto.random.*` and the nonces of
`crypto.encrypt.*`) come from the contract's `host.random_bytes(n)`; the clock
`crypto.jwt.verify` checks `exp`/`nbf` against is the host's time source. See
`modules/uuid.py` (`randomness`, `clock_ns`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from corelib import cryptolib
from lua_bindings.contract import ModuleHost
from lua_bindings.convert import from_lua
from lua_bindings.modules import LuaModule
from lua_bindings.modules.uuid import clock_ns, lua_result, randomness


def _table(value: Any) -> Any:
    """A Lua table argument as plain data (other values are passed on for the core to
    reject with a precise message)."""
    if value is None or isinstance(value, bool | int | float | bytes | str):
        return value
    return from_lua(value)


def _functions(host: ModuleHost) -> dict[str, Any]:
    rand, clock = randomness(host), clock_ns(host)

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        return lua_result(host.lua, fn)

    def jwt_verify(
        token: Any = None, key: Any = None, alg: Any = None, require_exp: Any = None, *_: Any
    ) -> Any:
        return cryptolib.jwt_verify(
            token,
            key,
            alg,
            True if require_exp is None else require_exp,
            clock=lambda: clock() / 1e9,
        )

    return {
        "random": {
            "bytes": wrap(lambda n=None, *_: cryptolib.random_bytes(n, rand)),
            "string": wrap(
                lambda n=None, charset=None, *_: cryptolib.random_string(n, charset, rand)
            ),
            "uuid": wrap(lambda *_: cryptolib.random_uuid(rand)),
        },
        "hmac": {
            "sha256": wrap(lambda key=None, data=None, *_: cryptolib.hmac_sha256(key, data)),
            "sha512": wrap(lambda key=None, data=None, *_: cryptolib.hmac_sha512(key, data)),
        },
        "encrypt": {
            "aes": wrap(
                lambda data=None, key=None, aad=None, *_: cryptolib.encrypt_aes(
                    data, key, aad, rand
                )
            ),
            "chacha20": wrap(
                lambda data=None, key=None, aad=None, *_: cryptolib.encrypt_chacha20(
                    data, key, aad, rand
                )
            ),
        },
        "decrypt": {
            "aes": wrap(
                lambda data=None, key=None, aad=None, *_: cryptolib.decrypt_aes(data, key, aad)
            ),
            "chacha20": wrap(
                lambda data=None, key=None, aad=None, *_: cryptolib.decrypt_chacha20(data, key, aad)
            ),
        },
        "jwt": {
            "encode": wrap(
                lambda claims=None, key=None, alg=None, *_: cryptolib.jwt_encode(
                    _table(claims), key, alg
                )
            ),
            "verify": wrap(jwt_verify),
        },
        "pbkdf2": wrap(
            lambda password=None, salt=None, iterations=None, key_length=None, hash=None, *_: (
                cryptolib.pbkdf2(password, salt, iterations, key_length, hash)
            )
        ),
        "constant_time_compare": lambda a=None, b=None, *_: cryptolib.constant_time_compare(a, b),
    }


MODULE = LuaModule("crypto", _functions, lua=False)
