"""Pure-Python core of the Lua `uuid` module (lua-api.md §12.1).

Generators take their randomness (`rand(n) -> bytes`) and clock (`clock_ns() -> int`, Unix
nanoseconds) as arguments because inside durable workflows both must come from the workflow,
so that replays produce the same ids. They keep no state between calls for the same reason:
v1 and v7 ids are therefore not guaranteed monotonic within one clock tick (RFC 9562 makes
that optional); uniqueness rests on their random bits.

Accepted input forms, as in Go's `github.com/google/uuid`: the canonical 36-character form,
32 hex digits, `urn:uuid:<canonical>` and `{<canonical>}`, hex digits in either case.
All results are `str`; malformed input raises `Invalid`, generation failure `Internal`.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid as _uuid
from collections.abc import Callable
from typing import Any

from actors import errors

Random = Callable[[int], bytes]
Clock = Callable[[], int]

NAMESPACE_DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
NAMESPACE_URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
NAMESPACE_OID = "6ba7b812-9dad-11d1-80b4-00c04fd430c8"
NAMESPACE_X500 = "6ba7b814-9dad-11d1-80b4-00c04fd430c8"

_GREGORIAN_OFFSET = 0x01B21DD213814000
"""100-ns intervals between the v1 epoch (1582-10-15) and the Unix epoch."""

_CANONICAL = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_SIMPLE = re.compile(r"[0-9a-fA-F]{32}")
_STYLES = ("standard", "simple", "urn")


# --------------------------------------------------------------------------------------------
# Parsing


def _text(value: Any, what: str) -> str:
    """A Lua string (bytes) or str as text; anything else is the caller's mistake."""
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("ascii")
        except UnicodeDecodeError:
            raise errors.invalid(f"invalid {what}: not a UUID") from None
    if isinstance(value, str):
        return value
    raise errors.invalid(f"{what} must be a string, got {type(value).__name__}")


def _hex_digits(text: str) -> str | None:
    """The 32 hex digits of any accepted form, or None."""
    if len(text) == 45 and text[:9].lower() == "urn:uuid:":
        text = text[9:]
    elif len(text) == 38 and text[0] == "{" and text[-1] == "}":
        text = text[1:-1]
    if len(text) == 36 and _CANONICAL.fullmatch(text):
        return text.replace("-", "")
    if len(text) == 32 and _SIMPLE.fullmatch(text):
        return text
    return None


def _parse(value: Any, what: str = "uuid") -> _uuid.UUID:
    digits = _hex_digits(_text(value, what))
    if digits is None:
        raise errors.invalid(f"invalid {what}: {_preview(value)} is not a UUID")
    return _uuid.UUID(hex=digits)


def _preview(value: Any) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else value
    return repr(text[:64])


def validate(value: Any) -> bool:
    """True for a string in one of the accepted forms; False (never an error) otherwise."""
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return False
    return isinstance(value, str) and _hex_digits(value) is not None


def _version_bits(u: _uuid.UUID) -> int:
    return (u.int >> 76) & 0xF


def _variant_name(u: _uuid.UUID) -> str:
    """Variant from the top bits of octet 8 (RFC 4122 §4.1.1).

    0xx is the NCS backward-compatibility variant, reported as "NCS". "Reserved" and
    "Invalid" exist in the spec's list but no well-formed id has them: malformed ids raise.
    """
    octet = (u.int >> 56) & 0xFF
    if octet & 0x80 == 0:
        return "NCS"
    if octet & 0xC0 == 0x80:
        return "RFC4122"
    if octet & 0xE0 == 0xC0:
        return "Microsoft"
    return "Future"


def version(value: Any) -> int:
    """The version nibble (0 for the nil UUID, 1-8 for RFC ids)."""
    return _version_bits(_parse(value))


def variant(value: Any) -> str:
    """`RFC4122`, `NCS`, `Microsoft` or `Future` (see `_variant_name`)."""
    return _variant_name(_parse(value))


def _node_text(node: int) -> str:
    return ":".join(f"{octet:02x}" for octet in node.to_bytes(6, "big"))


def parse(value: Any) -> dict[str, Any]:
    """`{version, variant, timestamp?, node?}`.

    `timestamp` is whole Unix seconds (an integer, as spec §17.4 asks for Unix times), present
    for v1 and v7. `node` is present for v1 only, as six lowercase hex octets joined by colons
    (`"01:23:45:67:89:ab"`).
    """
    u = _parse(value)
    info: dict[str, Any] = {"version": _version_bits(u), "variant": _variant_name(u)}
    if info["version"] == 1:
        info["timestamp"] = (u.time - _GREGORIAN_OFFSET) // 10_000_000
        info["node"] = _node_text(u.node)
    elif info["version"] == 7:
        info["timestamp"] = (u.int >> 80) // 1000
    return info


def format(value: Any, style: Any = "standard") -> str:
    """Render an id as `standard` (36 chars), `simple` (32 hex digits) or `urn`."""
    u = _parse(value)
    chosen = "standard" if style is None else _text(style, "format style")
    if chosen == "standard":
        return str(u)
    if chosen == "simple":
        return u.hex
    if chosen == "urn":
        return u.urn
    raise errors.invalid(f"unsupported format style {chosen!r} (use one of {', '.join(_STYLES)})")


# --------------------------------------------------------------------------------------------
# Generation


def _draw(rand: Random, count: int) -> bytes:
    """`count` bytes from the injected source; a broken source is a generation failure."""
    try:
        data = rand(count)
    except errors.ActorError:
        raise
    except Exception as exc:
        raise errors.error(errors.INTERNAL, f"uuid generation failed: {exc}") from exc
    if not isinstance(data, bytes | bytearray) or len(data) != count:
        raise errors.error(
            errors.INTERNAL, f"uuid generation failed: random source did not return {count} bytes"
        )
    return bytes(data)


def _now_ns(clock_ns: Clock) -> int:
    try:
        now = int(clock_ns())
    except errors.ActorError:
        raise
    except Exception as exc:
        raise errors.error(errors.INTERNAL, f"uuid generation failed: {exc}") from exc
    if now < 0:
        raise errors.error(errors.INTERNAL, "uuid generation failed: clock is before 1970")
    return now


def _stamp(value: int, version_number: int) -> str:
    """Set the version nibble and the RFC 4122 variant bits of a 128-bit value.

    Done by hand because `uuid.UUID(version=...)` rejects versions above 5 before 3.12.
    """
    value &= ~((0xF << 76) | (0xC << 60))
    value |= (version_number << 76) | (0x8 << 60)
    return str(_uuid.UUID(int=value))


def v1(rand: Random = os.urandom, clock_ns: Clock = time.time_ns) -> str:
    """Time-based id. The node is random with the multicast bit set (RFC 4122 §4.5) rather
    than a MAC address: that leaks nothing about the host and replays in workflows."""
    ticks = _now_ns(clock_ns) // 100 + _GREGORIAN_OFFSET
    if ticks >= 1 << 60:
        raise errors.error(errors.INTERNAL, "uuid generation failed: clock out of range")
    entropy = _draw(rand, 8)
    clock_seq = int.from_bytes(entropy[:2], "big") & 0x3FFF
    node = int.from_bytes(entropy[2:], "big") | (1 << 40)
    value = (
        (ticks & 0xFFFFFFFF) << 96
        | ((ticks >> 32) & 0xFFFF) << 80
        | ((ticks >> 48) & 0x0FFF) << 64
        | clock_seq << 48
        | node
    )
    return _stamp(value, 1)


def v4(rand: Random = os.urandom) -> str:
    """Random id: 122 random bits."""
    return _stamp(int.from_bytes(_draw(rand, 16), "big"), 4)


def v7(rand: Random = os.urandom, clock_ns: Clock = time.time_ns) -> str:
    """48-bit Unix-millisecond timestamp, version 7, RFC variant, random rest (RFC 9562)."""
    millis = _now_ns(clock_ns) // 1_000_000
    if millis >= 1 << 48:
        raise errors.error(errors.INTERNAL, "uuid generation failed: clock out of range")
    random_bits = int.from_bytes(_draw(rand, 10), "big")
    return _stamp(millis << 80 | random_bits, 7)


def _name_bytes(name: Any) -> bytes:
    if isinstance(name, bytes | bytearray):
        return bytes(name)
    if isinstance(name, str):  # surrogate escapes stand for the bytes of a binary Lua string
        return name.encode("utf-8", "surrogateescape")
    raise errors.invalid(f"name must be a string, got {type(name).__name__}")


def _name_based(namespace: Any, name: Any, algorithm: str, version_number: int) -> str:
    """RFC 4122 §4.3: hash of namespace bytes + name, first 16 bytes, version/variant set."""
    space = _parse(namespace, "namespace uuid")
    digest = hashlib.new(algorithm, space.bytes + _name_bytes(name), usedforsecurity=False)
    return _stamp(int.from_bytes(digest.digest()[:16], "big"), version_number)


def v3(namespace: Any, name: Any) -> str:
    """Deterministic MD5 name-based id."""
    return _name_based(namespace, name, "md5", 3)


def v5(namespace: Any, name: Any) -> str:
    """Deterministic SHA-1 name-based id."""
    return _name_based(namespace, name, "sha1", 5)
