"""Tests for the `crypto` module core (`corelib.cryptolib`, spec §12.2)."""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from actors import errors
from actors.errors import INTERNAL, INVALID, ActorError
from corelib import cryptolib as c


def fails(kind: str, fn: Any, *args: Any, match: str = "", **kwargs: Any) -> None:
    with pytest.raises(ActorError) as info:
        fn(*args, **kwargs)
    assert info.value.kind == kind, info.value
    assert match in info.value.error.message, info.value.error.message


def zeros(n: int) -> bytes:
    return bytes(n)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --------------------------------------------------------------------------------------------
# random


def test_random_bytes() -> None:
    assert len(c.random_bytes(1)) == 1
    assert len(c.random_bytes(1_048_576)) == 1_048_576
    assert isinstance(c.random_bytes(16), bytes)
    assert c.random_bytes(16.0, rand=zeros) == bytes(16)  # Lua may pass an integral float
    assert c.random_bytes(16) != c.random_bytes(16)


@pytest.mark.parametrize("n", [0, -1, 1_048_577, 1.5, "8", None, True])
def test_random_bytes_bad_length_is_invalid(n: Any) -> None:
    fails(INVALID, c.random_bytes, n)


def test_random_string_defaults_to_alphanumerics() -> None:
    text = c.random_string(200)
    assert isinstance(text, str)
    assert len(text) == 200
    assert set(text) <= set(c.ALPHANUMERIC)


def test_random_string_charset_is_characters_not_bytes() -> None:
    text = c.random_string(50, "αβγ".encode())
    assert len(text) == 50
    assert set(text) <= set("αβγ")
    assert c.random_string(5, "x") == "xxxxx"


def test_random_string_rejects_bias() -> None:
    # 62 symbols: byte values 248..255 would favour the first 8 symbols and must be redrawn
    stream = bytearray([255, 248, 61, 0, 0, 0, 0])

    def rand(n: int) -> bytes:
        chunk = bytes(stream[:n])
        del stream[:n]
        return chunk

    assert c.random_string(2, rand=rand) == "9A"


def test_random_string_is_roughly_uniform() -> None:
    counts = collections.Counter(c.random_string(60_000, "abc"))
    assert all(18_000 < n < 22_000 for n in counts.values())


def test_random_string_large_charset_uses_wider_draws() -> None:
    charset = "".join(chr(0x4E00 + i) for i in range(1000))
    text = c.random_string(300, charset)
    assert len(text) == 300
    assert set(text) <= set(charset)


def test_random_string_errors() -> None:
    fails(INVALID, c.random_string, 0)
    fails(INVALID, c.random_string, 1_048_577)
    fails(INVALID, c.random_string, 5, "", match="charset must not be empty")
    fails(INVALID, c.random_string, 5, 7, match="charset must be a string")


def test_random_uuid_is_v4() -> None:
    assert uuid.UUID(c.random_uuid()).version == 4
    assert c.random_uuid(rand=zeros) == "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    "rand", [lambda n: b"", lambda n: "x" * n, lambda n: bytes(n - 1), lambda n: 1 / 0]
)
def test_broken_random_source_is_internal(rand: Any) -> None:
    fails(INTERNAL, c.random_bytes, 8, rand=rand)
    fails(INTERNAL, c.random_string, 8, rand=rand)
    fails(INTERNAL, c.encrypt_aes, "x", bytes(16), rand=rand)


def test_random_source_actor_error_passes_through() -> None:
    def canceled(n: int) -> bytes:
        raise errors.error(errors.CANCELED, "canceled")

    fails(errors.CANCELED, c.random_bytes, 8, rand=canceled)


# --------------------------------------------------------------------------------------------
# hmac (RFC 4231)

RFC4231 = [
    (
        b"\x0b" * 20,
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    ),
    (
        b"\xaa" * 20,
        b"\xdd" * 50,
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
        "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
    ),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
        "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
    ),
]


@pytest.mark.parametrize(("key", "data", "sha256", "sha512"), RFC4231)
def test_hmac_rfc4231(key: bytes, data: bytes, sha256: str, sha512: str) -> None:
    assert c.hmac_sha256(key, data) == sha256
    assert c.hmac_sha512(key, data) == sha512


def test_hmac_accepts_str() -> None:
    assert c.hmac_sha256("Jefe", "what do ya want for nothing?") == RFC4231[1][2]
    assert c.hmac_sha256("k", "") == hmac.new(b"k", b"", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("fn", [c.hmac_sha256, c.hmac_sha512])
def test_hmac_errors(fn: Any) -> None:
    fails(INVALID, fn, "", "data", match="key must not be empty")
    fails(INVALID, fn, None, "data", match="key must be a string")
    fails(INVALID, fn, "k", 5, match="data must be a string")


def test_constant_time_compare() -> None:
    assert c.constant_time_compare("abc", "abc") is True
    assert c.constant_time_compare(b"abc", "abc") is True
    assert c.constant_time_compare("abc", "abd") is False
    assert c.constant_time_compare("abc", "abcd") is False
    assert c.constant_time_compare("", "") is True
    assert c.constant_time_compare("1", 1) is False
    assert c.constant_time_compare(None, None) is False


# --------------------------------------------------------------------------------------------
# pbkdf2

PBKDF2_VECTORS = [
    # (password, salt, iterations, length, hash, hex) — RFC 7914 §11 and common SHA-2 vectors
    (
        "passwd",
        "salt",
        1,
        64,
        "sha256",
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
    ),
    (
        "password",
        "salt",
        1,
        32,
        "sha256",
        "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b",
    ),
    (
        "password",
        "salt",
        4096,
        32,
        "sha256",
        "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a",
    ),
    (
        "password",
        "salt",
        1,
        64,
        "sha512",
        "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
        "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce",
    ),
]


@pytest.mark.parametrize(("password", "salt", "rounds", "length", "hash", "hex"), PBKDF2_VECTORS)
def test_pbkdf2_known_answers(
    password: str, salt: str, rounds: int, length: int, hash: str, hex: str
) -> None:
    derived = c.pbkdf2(password.encode(), salt, rounds, length, hash)
    assert isinstance(derived, bytes)
    assert derived.hex() == hex


def test_pbkdf2_defaults_and_hash_spelling() -> None:
    expected = bytes.fromhex(PBKDF2_VECTORS[1][5])
    assert c.pbkdf2("password", "salt", 1, 32) == expected
    assert c.pbkdf2("password", "salt", 1, 32, None) == expected
    assert c.pbkdf2("password", "salt", 1.0, 32.0, b"SHA256") == expected
    assert len(c.pbkdf2("", "", 1, 16)) == 16


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("p", "s", 0, 32), "iterations"),
        (("p", "s", 10_000_001, 32), "iterations"),
        (("p", "s", "1000", 32), "iterations must be an integer"),
        (("p", "s", 1, 0), "key length"),
        (("p", "s", 1, 1025), "key length"),
        (("p", "s", 1, 32, "md5"), "unsupported hash"),
        ((None, "s", 1, 32), "password must be a string"),
        (("p", 3, 1, 32), "salt must be a string"),
    ],
)
def test_pbkdf2_errors(args: tuple[Any, ...], match: str) -> None:
    fails(INVALID, c.pbkdf2, *args, match=match)


# --------------------------------------------------------------------------------------------
# AEAD


def test_aes_gcm_known_answer() -> None:
    # GCM spec (McGrew & Viega) test case 2: zero key, zero IV, one zero block
    sealed = c.encrypt_aes(bytes(16), bytes(16), rand=zeros)
    assert sealed == bytes(12) + bytes.fromhex(
        "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"
    )
    assert c.decrypt_aes(sealed, bytes(16)) == bytes(16)


def test_aes_gcm_known_answer_with_nonce() -> None:
    # GCM spec test case 3
    key = bytes.fromhex("feffe9928665731c6d6a8f9467308308")
    nonce = bytes.fromhex("cafebabefacedbaddecaf888")
    plaintext = bytes.fromhex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
    )
    expected = bytes.fromhex(
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
        "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
        "4d5c2af327cd64a62cf35abd2ba6fab4"
    )
    assert c.encrypt_aes(plaintext, key, rand=lambda n: nonce) == nonce + expected
    assert c.decrypt_aes(nonce + expected, key) == plaintext


def test_chacha20_poly1305_rfc8439() -> None:
    key = bytes(range(0x80, 0xA0))
    nonce = bytes.fromhex("070000004041424344454647")
    aad = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
    plaintext = (
        b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
        b"the future, sunscreen would be it."
    )
    sealed = c.encrypt_chacha20(plaintext, key, aad, rand=lambda n: nonce)
    assert sealed[:12] == nonce
    assert sealed[12:28] == bytes.fromhex("d31a8d34648e60db7b86afbc53ef7ec2")
    assert sealed[-16:] == bytes.fromhex("1ae10b594f09e26a7e902ecbd0600691")
    assert c.decrypt_chacha20(sealed, key, aad) == plaintext


@pytest.mark.parametrize(
    ("encrypt", "decrypt", "key"),
    [
        (c.encrypt_aes, c.decrypt_aes, b"k" * 16),
        (c.encrypt_aes, c.decrypt_aes, b"k" * 24),
        (c.encrypt_aes, c.decrypt_aes, "k" * 32),
        (c.encrypt_chacha20, c.decrypt_chacha20, b"k" * 32),
    ],
)
def test_aead_round_trip_and_failures(encrypt: Any, decrypt: Any, key: Any) -> None:
    sealed = encrypt("secret ✓", key)
    assert isinstance(sealed, bytes)
    assert len(sealed) == 12 + len("secret ✓".encode()) + 16
    assert decrypt(sealed, key) == "secret ✓".encode()
    assert encrypt("secret", key) != encrypt("secret", key)  # fresh nonce each time
    assert decrypt(encrypt(b"", key), key) == b""

    with_aad = encrypt(b"m", key, "context")
    assert decrypt(with_aad, key, b"context") == b"m"
    fails(INTERNAL, decrypt, with_aad, key, "other", match="decryption failed")
    fails(INTERNAL, decrypt, with_aad, key, match="decryption failed")

    tampered = bytearray(sealed)
    tampered[15] ^= 1
    fails(INTERNAL, decrypt, bytes(tampered), key, match="decryption failed")
    wrong_key = bytes(len(key.encode() if isinstance(key, str) else key))
    fails(INTERNAL, decrypt, sealed, wrong_key, match="decryption failed")
    fails(INTERNAL, decrypt, sealed[:27], key, match="too short")


@pytest.mark.parametrize("key", [b"", b"k" * 15, b"k" * 33, "k" * 20])
def test_aes_bad_key_is_invalid(key: bytes) -> None:
    fails(INVALID, c.encrypt_aes, "x", key)
    fails(INVALID, c.decrypt_aes, bytes(40), key)


@pytest.mark.parametrize("key", [b"", b"k" * 16, b"k" * 31])
def test_chacha_bad_key_is_invalid(key: bytes) -> None:
    fails(INVALID, c.encrypt_chacha20, "x", key)
    fails(INVALID, c.decrypt_chacha20, bytes(40), key)


def test_aead_bad_argument_types_are_invalid() -> None:
    fails(INVALID, c.encrypt_aes, 5, bytes(16), match="data must be a string")
    fails(INVALID, c.encrypt_aes, "x", None, match="key must be a string")
    fails(INVALID, c.encrypt_aes, "x", bytes(16), 7, match="aad must be a string")
    fails(INVALID, c.decrypt_chacha20, None, bytes(32), match="data must be a string")


@given(st.binary(max_size=300), st.binary(min_size=32, max_size=32), st.binary(max_size=20))
def test_property_aead_round_trip(data: bytes, key: bytes, aad: bytes) -> None:
    assert c.decrypt_aes(c.encrypt_aes(data, key, aad), key, aad) == data
    assert c.decrypt_chacha20(c.encrypt_chacha20(data, key, aad), key, aad) == data


# --------------------------------------------------------------------------------------------
# JWT

JWT_IO_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
RFC7515_KEY = unb64url(
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
)
RFC7515_TOKEN = (
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)
NOW = 1_700_000_000


def at_now() -> float:
    return NOW


def test_jwt_verify_jwt_io_example() -> None:
    claims = c.jwt_verify(JWT_IO_TOKEN, "your-256-bit-secret", require_exp=False)
    assert claims == {"sub": "1234567890", "name": "John Doe", "iat": 1516239022}
    assert type(claims["iat"]) is int
    fails(INTERNAL, c.jwt_verify, JWT_IO_TOKEN, "your-256-bit-secret", match="missing exp")


def test_jwt_verify_rfc7515_example() -> None:
    claims = c.jwt_verify(RFC7515_TOKEN, RFC7515_KEY, clock=lambda: 1300819379)
    assert claims == {"iss": "joe", "exp": 1300819380, "http://example.com/is_root": True}
    fails(INTERNAL, c.jwt_verify, RFC7515_TOKEN, RFC7515_KEY, match="expired")
    fails(
        INTERNAL,
        c.jwt_verify,
        RFC7515_TOKEN,
        RFC7515_KEY,
        clock=lambda: 1300819380,
        match="expired",
    )


def test_jwt_encode_hs256_matches_independent_signature() -> None:
    token = c.jwt_encode(
        {b"sub": b"1234567890", b"name": b"John Doe", b"iat": 1516239022}, "your-256-bit-secret"
    )
    header, payload, signature = token.split(".")
    assert unb64url(header) == b'{"alg":"HS256","typ":"JWT"}'
    assert unb64url(payload) == b'{"iat":1516239022,"name":"John Doe","sub":"1234567890"}'
    expected = hmac.new(
        b"your-256-bit-secret", f"{header}.{payload}".encode(), hashlib.sha256
    ).digest()
    assert signature == b64url(expected)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512", "hs512", b"HS384"])
def test_jwt_hmac_round_trip(alg: Any) -> None:
    claims = {"sub": "u1", "exp": NOW + 60, "n": 1.5, "roles": ["a", "b"]}
    token = c.jwt_encode(claims, b"secret", alg)
    assert c.jwt_verify(token, "secret", alg, clock=at_now) == claims
    name = (alg.decode() if isinstance(alg, bytes) else alg).upper()
    assert json.loads(unb64url(token.split(".")[0]))["alg"] == name


def test_jwt_default_alg_and_nil_arguments() -> None:
    token = c.jwt_encode({"exp": NOW + 1}, "k", None)
    assert c.jwt_verify(token, "k", None, None, clock=at_now) == {"exp": NOW + 1}


def test_jwt_header_extras() -> None:
    claims = {"_header": {"kid": "key-1", "typ": "at+jwt", "alg": "none"}, "exp": NOW + 5}
    token = c.jwt_encode(claims, "k")
    header = json.loads(unb64url(token.split(".")[0]))
    assert header == {"alg": "HS256", "kid": "key-1", "typ": "at+jwt"}  # alg cannot be forged
    assert c.jwt_verify(token, "k", clock=at_now) == {"exp": NOW + 5}
    assert "_header" in claims  # the caller's table is not modified
    token = c.jwt_encode({b"_header": {b"typ": b"x"}, b"exp": NOW + 5}, "k")
    assert unb64url(token.split(".")[0]) == b'{"alg":"HS256","typ":"x"}'
    token = c.jwt_encode({b"_header": [], b"exp": NOW + 5}, "k")
    assert c.jwt_verify(token, "k", clock=at_now) == {"exp": NOW + 5}


def test_jwt_empty_claims_table() -> None:
    token = c.jwt_encode([], "k")
    assert unb64url(token.split(".")[1]) == b"{}"
    assert c.jwt_verify(token, "k", require_exp=False) == {}


def test_jwt_time_claims() -> None:
    def verify(claims: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return c.jwt_verify(c.jwt_encode(claims, "k"), "k", clock=at_now, **kwargs)

    assert verify({"exp": NOW + 0.5}) == {"exp": NOW + 0.5}
    fails(INTERNAL, verify, {"exp": NOW}, match="expired")
    fails(INTERNAL, verify, {"exp": NOW - 10}, match="expired")
    fails(INTERNAL, verify, {"exp": NOW - 10}, require_exp=False, match="expired")
    fails(INTERNAL, verify, {"exp": "tomorrow"}, match="exp claim is not a number")
    fails(INTERNAL, verify, {"exp": True}, match="exp claim is not a number")
    fails(INTERNAL, verify, {"sub": "x"}, match="missing exp")
    assert verify({"sub": "x"}, require_exp=False) == {"sub": "x"}
    fails(INTERNAL, verify, {"exp": NOW + 10, "nbf": NOW + 1}, match="not valid yet")
    assert verify({"exp": NOW + 10, "nbf": NOW}) == {"exp": NOW + 10, "nbf": NOW}


def test_jwt_rejects_bad_tokens() -> None:
    token = c.jwt_encode({"exp": NOW + 60, "sub": "a"}, "k")
    header, payload, signature = token.split(".")
    forged_payload = b64url(b'{"exp":9999999999,"sub":"admin"}')
    cases = [
        (f"{header}.{forged_payload}.{signature}", "signature verification failed"),
        (f"{header}.{payload}.{signature[:-2]}AA", "signature verification failed"),
        (f"{header}.{payload}.", "signature verification failed"),
        (f"{header}.{payload}", "three dot-separated parts"),
        (f"{token}.x", "three dot-separated parts"),
        ("", "three dot-separated parts"),
        (f"{header}.{payload}.a+b/", "not base64url"),
        (f"%%%.{payload}.{signature}", "header is not base64url"),
        (f"{b64url(b'not json')}.{payload}.{signature}", "header is not JSON"),
        (f"{b64url(b'[1]')}.{payload}.{signature}", "header is not a JSON object"),
    ]
    for bad, match in cases:
        fails(INTERNAL, c.jwt_verify, bad, "k", clock=at_now, match=match)
    fails(INTERNAL, c.jwt_verify, token, "other-key", clock=at_now, match="signature")


def test_jwt_payload_must_be_object_even_when_signed() -> None:
    header = b64url(b'{"alg":"HS256"}')
    payload = b64url(b"[1,2]")
    signature = b64url(hmac.new(b"k", f"{header}.{payload}".encode(), hashlib.sha256).digest())
    fails(INTERNAL, c.jwt_verify, f"{header}.{payload}.{signature}", "k", match="payload")


def test_jwt_alg_must_match() -> None:
    token = c.jwt_encode({"exp": NOW + 60}, "k", "HS512")
    fails(INTERNAL, c.jwt_verify, token, "k", "HS256", clock=at_now, match="does not match")
    unsigned = b64url(b'{"alg":"none"}') + "." + b64url(b'{"exp":9999999999}') + "."
    fails(INTERNAL, c.jwt_verify, unsigned, "k", clock=at_now, match="does not match")


def test_jwt_argument_errors_are_invalid() -> None:
    fails(INVALID, c.jwt_encode, {"a": 1}, "k", "ES256", match="unsupported JWT algorithm")
    fails(INVALID, c.jwt_encode, {"a": 1}, "", match="key must not be empty")
    fails(INVALID, c.jwt_encode, "claims", "k", match="claims must be a table")
    fails(INVALID, c.jwt_encode, [1, 2], "k", match="claims must be a table")
    fails(INVALID, c.jwt_encode, {"_header": "x"}, "k", match="claims._header")
    fails(INVALID, c.jwt_encode, {"f": object()}, "k", match="cannot encode")
    fails(INVALID, c.jwt_encode, {1: "a", 3: "b"}, "k", match="sparse array")
    fails(INVALID, c.jwt_verify, JWT_IO_TOKEN, "", match="key must not be empty")
    fails(INVALID, c.jwt_verify, JWT_IO_TOKEN, "k", "none", match="unsupported")
    fails(INVALID, c.jwt_verify, JWT_IO_TOKEN, "k", "HS256", "yes", match="require_exp")
    fails(INVALID, c.jwt_verify, 5, "k", match="token must be a string")


@pytest.fixture(scope="module")
def rsa_pems() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def test_jwt_rs256_round_trip(rsa_pems: tuple[bytes, bytes]) -> None:
    private, public = rsa_pems
    claims = {"sub": "svc", "exp": NOW + 60}
    token = c.jwt_encode(claims, private, "RS256")
    assert c.jwt_verify(token, public, "RS256", clock=at_now) == claims
    assert c.jwt_verify(token, public.decode(), "RS256", clock=at_now) == claims
    assert c.jwt_verify(token, private, "RS256", clock=at_now) == claims  # public half used

    # independent check of the signature with `cryptography`
    header, payload, signature = token.split(".")
    loaded = serialization.load_pem_public_key(public)
    assert isinstance(loaded, rsa.RSAPublicKey)
    loaded.verify(
        unb64url(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_jwt_rs256_failures(rsa_pems: tuple[bytes, bytes]) -> None:
    private, public = rsa_pems
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_public = other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = c.jwt_encode({"exp": NOW + 60}, private, "RS256")
    fails(INTERNAL, c.jwt_verify, token, other_public, "RS256", clock=at_now, match="signature")
    fails(INVALID, c.jwt_encode, {"a": 1}, public, "RS256", match="invalid RSA private key")
    fails(INVALID, c.jwt_encode, {"a": 1}, "not a pem", "RS256", match="invalid RSA private")
    fails(INVALID, c.jwt_verify, token, "not a pem", "RS256", match="invalid RSA public key")
    hs_token = c.jwt_encode({"exp": NOW + 60}, public, "HS256")  # the classic confusion attack
    fails(INTERNAL, c.jwt_verify, hs_token, public, "RS256", clock=at_now, match="does not match")


def test_jwt_rs256_rejects_non_rsa_keys() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_private = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ec_public = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fails(INVALID, c.jwt_encode, {"a": 1}, ec_private, "RS256", match="RSA private key")
    fails(INVALID, c.jwt_verify, "a.b.c", ec_public, "RS256", match="RSA public key")


@given(
    st.dictionaries(
        st.text(max_size=10).filter(lambda k: k not in ("_header", "exp", "nbf")),
        st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text() | st.booleans(),
        max_size=6,
    ),
    st.binary(min_size=1, max_size=64),
)
def test_property_jwt_round_trip(claims: dict[str, Any], key: bytes) -> None:
    token = c.jwt_encode(claims, key, "HS512")
    assert c.jwt_verify(token, key, "HS512", require_exp=False) == claims


def test_surrogate_escaped_text_means_the_original_bytes() -> None:
    """`convert.text` passes binary Lua strings as str with surrogate escapes."""
    binary = b"\xff\x00k"
    escaped = binary.decode("utf-8", "surrogateescape")
    assert c.hmac_sha256(escaped, escaped) == c.hmac_sha256(binary, binary)
    assert c.constant_time_compare(escaped, binary) is True
    text = c.random_string(40, b"a\xff")
    assert set(text) <= {"a", "\udcff"}
    assert set(text.encode("utf-8", "surrogateescape")) <= {ord("a"), 0xFF}
