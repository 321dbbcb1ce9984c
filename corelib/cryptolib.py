"""Pure-Python core of the Lua `crypto` module (lua-api.md §12.2).

Strings may arrive as `bytes` (Lua strings) or `str`. Binary results (random bytes,
ciphertexts, derived keys) are `bytes`; text results (hex digests, tokens, random strings) are
`str`. Functions that draw randomness take `rand(n) -> bytes` so that workflows can record and
replay it (spec §12).

Error kinds: a bad argument (wrong type, bad length, empty key, wrong key size, unsupported
algorithm, unreadable PEM key) is `Invalid`; an input that fails cryptographically
(decryption failure, bad or malformed token, expired token) is `Internal`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from actors import errors
from corelib import jsoncodec, uuids

Random = Callable[[int], bytes]

MAX_RANDOM_BYTES = 1_048_576
MAX_PBKDF2_ITERATIONS = 10_000_000
MAX_PBKDF2_LENGTH = 1024
ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
NONCE_SIZE = 12
TAG_SIZE = 16


# --------------------------------------------------------------------------------------------
# Argument helpers


def _bytes(value: Any, what: str) -> bytes:
    """A Lua string (bytes) or str as bytes; anything else is an `Invalid` argument.

    A str may carry invalid UTF-8 as surrogate escapes (how `convert.text` passes binary Lua
    strings); `surrogateescape` gives back the original bytes.
    """
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        try:
            return value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogatepass")
    raise errors.invalid(f"{what} must be a string, got {type(value).__name__}")


def _text(value: Any, what: str) -> str:
    """A Lua string as text; invalid UTF-8 bytes become surrogate escapes (one per byte),
    which the binding layer turns back into the same bytes."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogateescape")
    if isinstance(value, str):
        return value
    raise errors.invalid(f"{what} must be a string, got {type(value).__name__}")


def _key(value: Any, what: str = "key") -> bytes:
    key = _bytes(value, what)
    if not key:
        raise errors.invalid(f"{what} must not be empty")
    return key


def _integer(value: Any, what: str, low: int, high: int) -> int:
    """An integer argument in [low, high]; integral floats are accepted (Lua `16.0`)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise errors.invalid(f"{what} must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise errors.invalid(f"{what} must be between {low} and {high}, got {value}")
    return value


def _optional_aad(aad: Any) -> bytes | None:
    return None if aad is None else _bytes(aad, "aad")


def _draw(rand: Random, count: int) -> bytes:
    """`count` bytes from the injected random source, checked."""
    try:
        data = rand(count)
    except errors.ActorError:
        raise
    except Exception as exc:
        raise errors.InternalError(f"random source failed: {exc}") from exc
    if not isinstance(data, bytes | bytearray) or len(data) != count:
        raise errors.InternalError(f"random source did not return {count} bytes")
    return bytes(data)


# --------------------------------------------------------------------------------------------
# crypto.random


def random_bytes(n: Any, rand: Random = os.urandom) -> bytes:
    """`n` random bytes, 1 ≤ n ≤ 1 048 576."""
    return _draw(rand, _integer(n, "length", 1, MAX_RANDOM_BYTES))


def _charset(charset: Any) -> str:
    if charset is None:
        return ALPHANUMERIC
    chars = _text(charset, "charset")
    if not chars:
        raise errors.invalid("charset must not be empty")
    return chars


def random_string(n: Any, charset: Any = None, rand: Random = os.urandom) -> str:
    """`n` characters drawn uniformly from `charset` (alphanumerics by default).

    The charset is taken as UTF-8 characters, not bytes, so a non-ASCII charset still yields
    valid text; a byte that is not valid UTF-8 counts as one character of its own (returned
    as a surrogate escape). Rejection sampling avoids modulo bias.
    """
    count = _integer(n, "length", 1, MAX_RANDOM_BYTES)
    chars = _charset(charset)
    return "".join(chars[i] for i in _uniform_indices(len(chars), count, rand))


def _uniform_indices(size: int, count: int, rand: Random) -> list[int]:
    """`count` uniform integers in [0, size) from `rand`, drawing in batches."""
    width = max(1, ((size - 1).bit_length() + 7) // 8)
    space = 1 << (8 * width)
    limit = space - space % size  # values at or above `limit` would bias the result
    picked: list[int] = []
    while len(picked) < count:
        missing = count - len(picked)
        batch = _draw(rand, width * (missing + missing // 4 + 1))
        for offset in range(0, len(batch), width):
            value = int.from_bytes(batch[offset : offset + width], "big")
            if value < limit:
                picked.append(value % size)
                if len(picked) == count:
                    break
    return picked


def random_uuid(rand: Random = os.urandom) -> str:
    """A v4 uuid."""
    return uuids.v4(rand)


# --------------------------------------------------------------------------------------------
# crypto.hmac and helpers


def hmac_sha256(key: Any, data: Any) -> str:
    """Hex HMAC-SHA256 of `data`; the key must not be empty."""
    return hmac.new(_key(key), _bytes(data, "data"), hashlib.sha256).hexdigest()


def hmac_sha512(key: Any, data: Any) -> str:
    """Hex HMAC-SHA512 of `data`; the key must not be empty."""
    return hmac.new(_key(key), _bytes(data, "data"), hashlib.sha512).hexdigest()


def constant_time_compare(a: Any, b: Any) -> bool:
    """Equality of two strings in time independent of where they differ; False for
    non-strings (a comparison has no error case worth reporting)."""
    if not isinstance(a, str | bytes | bytearray) or not isinstance(b, str | bytes | bytearray):
        return False
    return hmac.compare_digest(_bytes(a, "a"), _bytes(b, "b"))


_PBKDF2_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha512": hashes.SHA512,
}


def pbkdf2(
    password: Any, salt: Any, iterations: Any, key_length: Any, hash: Any = "sha256"
) -> bytes:
    """PBKDF2-HMAC derived key of `key_length` bytes (1..1024).

    `iterations` is capped at 10 000 000 (spec); the length cap is ours, to bound the work a
    script can request. An empty password or salt is allowed: both are valid PBKDF2 inputs.
    """
    secret = _bytes(password, "password")
    salt_bytes = _bytes(salt, "salt")
    rounds = _integer(iterations, "iterations", 1, MAX_PBKDF2_ITERATIONS)
    length = _integer(key_length, "key length", 1, MAX_PBKDF2_LENGTH)
    name = "sha256" if hash is None else _text(hash, "hash").lower()
    if name not in _PBKDF2_HASHES:
        raise errors.invalid(f"unsupported hash {name!r} (use sha256 or sha512)")
    kdf = PBKDF2HMAC(
        algorithm=_PBKDF2_HASHES[name](), length=length, salt=salt_bytes, iterations=rounds
    )
    return kdf.derive(secret)


# --------------------------------------------------------------------------------------------
# crypto.encrypt / crypto.decrypt (AEAD, nonce prepended)

_Cipher = AESGCM | ChaCha20Poly1305


def _aes(key: Any) -> AESGCM:
    raw = _key(key)
    if len(raw) not in (16, 24, 32):
        raise errors.invalid(f"AES key must be 16, 24 or 32 bytes, got {len(raw)}")
    return AESGCM(raw)


def _chacha(key: Any) -> ChaCha20Poly1305:
    raw = _key(key)
    if len(raw) != 32:
        raise errors.invalid(f"ChaCha20 key must be 32 bytes, got {len(raw)}")
    return ChaCha20Poly1305(raw)


def _seal(cipher: _Cipher, data: Any, aad: Any, rand: Random) -> bytes:
    plaintext = _bytes(data, "data")
    associated = _optional_aad(aad)
    nonce = _draw(rand, NONCE_SIZE)
    return nonce + cipher.encrypt(nonce, plaintext, associated)


def _open(cipher: _Cipher, data: Any, aad: Any) -> bytes:
    sealed = _bytes(data, "data")
    associated = _optional_aad(aad)
    if len(sealed) < NONCE_SIZE + TAG_SIZE:
        raise errors.InternalError("decryption failed: ciphertext too short")
    try:
        return cipher.decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], associated)
    except InvalidTag:
        raise errors.InternalError("decryption failed: message authentication failed") from None


def encrypt_aes(data: Any, key: Any, aad: Any = None, rand: Random = os.urandom) -> bytes:
    """AES-GCM: 12-byte random nonce + ciphertext + 16-byte tag."""
    return _seal(_aes(key), data, aad, rand)


def decrypt_aes(data: Any, key: Any, aad: Any = None) -> bytes:
    """Inverse of `encrypt_aes`; a wrong key, aad or tampered data is `Internal`."""
    return _open(_aes(key), data, aad)


def encrypt_chacha20(data: Any, key: Any, aad: Any = None, rand: Random = os.urandom) -> bytes:
    """ChaCha20-Poly1305 with a 32-byte key: 12-byte random nonce + ciphertext + tag."""
    return _seal(_chacha(key), data, aad, rand)


def decrypt_chacha20(data: Any, key: Any, aad: Any = None) -> bytes:
    """Inverse of `encrypt_chacha20`."""
    return _open(_chacha(key), data, aad)


# --------------------------------------------------------------------------------------------
# crypto.jwt

_HMAC_ALGS: dict[str, Callable[..., Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}
_ALGS = (*_HMAC_ALGS, "RS256")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str, what: str) -> bytes:
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise errors.InternalError(f"malformed token: {what} is not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _algorithm(alg: Any) -> str:
    name = "HS256" if alg is None else _text(alg, "algorithm").upper()
    if name not in _ALGS:
        raise errors.invalid(f"unsupported JWT algorithm {name!r} (use {', '.join(_ALGS)})")
    return name


def _object(value: Any, what: str) -> dict[Any, Any]:
    """A Lua table that must be an object; an empty table arrives as `[]` and counts."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list) and not value:
        return {}
    raise errors.invalid(f"{what} must be a table with string keys")


def _split_header(claims: Any) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Separate `claims._header` (extra header fields) from the claims proper."""
    body = _object(claims, "claims")
    extra: Any = {}
    for name in ("_header", b"_header"):
        if name in body:
            extra = body.pop(name)
    fields = _object(extra, "claims._header").items()
    return body, {_field_name(k): v for k, v in fields}


def _field_name(key: Any) -> Any:
    """Header keys as text, so that a Lua `typ` (bytes) replaces the default `"typ"`."""
    return jsoncodec.to_text(key) if isinstance(key, bytes | bytearray) else key


def _private_key(key: Any) -> rsa.RSAPrivateKey:
    try:
        loaded = serialization.load_pem_private_key(_key(key), password=None)
    except (ValueError, TypeError) as exc:
        raise errors.invalid(f"invalid RSA private key: {exc}") from None
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise errors.invalid("RS256 needs an RSA private key")
    return loaded


def _public_key(key: Any) -> rsa.RSAPublicKey:
    """A PEM public key; a PEM private key is also accepted (its public half is used)."""
    pem = _key(key)
    try:
        loaded: Any = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        try:
            loaded = serialization.load_pem_private_key(pem, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise errors.invalid(f"invalid RSA public key: {exc}") from None
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise errors.invalid("RS256 needs an RSA public key")
    return loaded


def _sign(alg: str, key: Any, message: bytes) -> bytes:
    if alg in _HMAC_ALGS:
        return hmac.new(_key(key), message, _HMAC_ALGS[alg]).digest()
    return _private_key(key).sign(message, padding.PKCS1v15(), hashes.SHA256())


Verifier = Callable[[bytes, bytes], bool]


def _verifier(alg: str, key: Any) -> Verifier:
    """`(message, signature) -> ok` for `alg`; the key is checked up front, so a bad key is an
    argument error (`Invalid`) whatever the token looks like."""
    if alg in _HMAC_ALGS:
        secret, digest = _key(key), _HMAC_ALGS[alg]
        return lambda message, signature: hmac.compare_digest(
            hmac.new(secret, message, digest).digest(), signature
        )
    public = _public_key(key)

    def rsa_ok(message: bytes, signature: bytes) -> bool:
        try:
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    return rsa_ok


def jwt_encode(claims: Any, key: Any, alg: Any = "HS256") -> str:
    """Signed compact JWT. Header is `{"alg": alg, "typ": "JWT"}` plus `claims._header`
    (which may change `typ` or add `kid`, but never `alg`). JSON uses sorted keys."""
    name = _algorithm(alg)
    body, extra = _split_header(claims)
    header = {"typ": "JWT", **extra, "alg": name}
    try:
        signing_input = ".".join(
            _b64encode(jsoncodec.encode(part).encode("utf-8")) for part in (header, body)
        )
    except errors.ActorError as exc:
        raise errors.invalid(f"cannot encode JWT: {exc.error.message}") from None
    signature = _sign(name, key, signing_input.encode("ascii"))
    return f"{signing_input}.{_b64encode(signature)}"


def _json_segment(segment: str, what: str) -> dict[str, Any]:
    raw = _b64decode(segment, what)
    try:
        value = jsoncodec.decode(raw)
    except errors.ActorError:
        raise errors.InternalError(f"malformed token: {what} is not JSON") from None
    if not isinstance(value, dict):
        raise errors.InternalError(f"malformed token: {what} is not a JSON object")
    return value


def _time_claim(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.InternalError(f"invalid token: {name} claim is not a number")
    return value


def _check_times(claims: dict[str, Any], require_exp: bool, now: float) -> None:
    expires = _time_claim(claims, "exp")
    if expires is None and require_exp:
        raise errors.InternalError("invalid token: missing exp claim")
    if expires is not None and now >= expires:
        raise errors.InternalError("token expired")
    not_before = _time_claim(claims, "nbf")
    if not_before is not None and now < not_before:
        raise errors.InternalError("token not valid yet (nbf)")


def jwt_verify(
    token: Any,
    key: Any,
    alg: Any = "HS256",
    require_exp: Any = True,
    *,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Claims of a token signed with `alg` and `key` (RS256: a PEM public key).

    The header's `alg` must equal the expected one (no algorithm confusion, no `none`). The
    signature is checked before any claim, then `exp` (required unless `require_exp` is
    false) and `nbf` against `clock()`, Unix seconds, which workflows replace.
    """
    name = _algorithm(alg)
    if require_exp is not None and not isinstance(require_exp, bool):
        raise errors.invalid("require_exp must be a boolean")
    verify = _verifier(name, key)
    parts = _text(token, "token").split(".")
    if len(parts) != 3:
        raise errors.InternalError("malformed token: expected three dot-separated parts")
    header = _json_segment(parts[0], "header")
    if header.get("alg") != name:
        raise errors.InternalError(
            f"invalid token: algorithm {header.get('alg')!r} does not match {name}"
        )
    signature = _b64decode(parts[2], "signature")
    if not verify(f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
        raise errors.InternalError("invalid token: signature verification failed")
    claims = _json_segment(parts[1], "payload")
    _check_times(claims, require_exp is not False, clock())
    return claims
