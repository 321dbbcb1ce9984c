"""Tests for the `uuid` module core (`corelib.uuids`, spec §12.1)."""

from __future__ import annotations

import itertools
import uuid as std_uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors import errors
from actors.errors import INTERNAL, INVALID, ActorError
from corelib import uuids

SAMPLE = "6e081077-a4b1-49f8-80e7-c98d1760042b"
T_2024 = 1_700_000_000_123_456_789  # Unix ns: 2023-11-14T22:13:20.123456789Z


def counting_rand(n: int) -> bytes:
    """Deterministic "random" source: 0x00, 0x01, 0x02, ..."""
    return bytes(range(n))


def fails(kind: str, fn: Any, *args: Any, match: str = "") -> None:
    with pytest.raises(ActorError) as info:
        fn(*args)
    assert info.value.kind == kind, info.value
    assert match in info.value.error.message


# --------------------------------------------------------------------------------------------
# name-based known answers (RFC 4122 appendix B / Python docs)


def test_v5_known_answer() -> None:
    assert uuids.v5(uuids.NAMESPACE_DNS, "python.org") == "886313e1-3b8a-5372-9b90-0c9aee199e5d"
    assert uuids.v5(uuids.NAMESPACE_DNS.encode(), b"python.org") == (
        "886313e1-3b8a-5372-9b90-0c9aee199e5d"
    )


def test_v3_known_answer() -> None:
    assert uuids.v3(uuids.NAMESPACE_DNS, "python.org") == "6fa459ea-ee8a-3ca4-894e-db77e160355e"
    # RFC 4122 errata 1352: v3 of DNS namespace + "www.widgets.com"
    assert uuids.v3(uuids.NAMESPACE_DNS, "www.widgets.com") == (
        "3d813cbb-47fb-32ba-91df-831e1593ac29"
    )


@pytest.mark.parametrize(
    "namespace",
    [uuids.NAMESPACE_DNS, uuids.NAMESPACE_URL, uuids.NAMESPACE_OID, uuids.NAMESPACE_X500],
)
def test_name_based_match_stdlib(namespace: str) -> None:
    for name in ["", "a", "héllo", "x" * 300]:
        ns = std_uuid.UUID(namespace)
        assert uuids.v3(namespace, name) == str(std_uuid.uuid3(ns, name))
        assert uuids.v5(namespace, name) == str(std_uuid.uuid5(ns, name))


def test_name_based_accepts_binary_names_and_other_namespace_forms() -> None:
    expected = uuids.v5(uuids.NAMESPACE_URL, b"\xff\x00")
    simple = uuids.NAMESPACE_URL.replace("-", "").upper()
    assert uuids.v5(simple, b"\xff\x00") == expected
    assert uuids.v5("urn:uuid:" + uuids.NAMESPACE_URL, b"\xff\x00") == expected


@pytest.mark.parametrize("fn", [uuids.v3, uuids.v5])
def test_name_based_errors(fn: Any) -> None:
    fails(INVALID, fn, "dns", "x", match="invalid namespace uuid")
    fails(INVALID, fn, "", "x", match="invalid namespace uuid")
    fails(INVALID, fn, None, "x", match="namespace uuid must be a string")
    fails(INVALID, fn, uuids.NAMESPACE_DNS, 5, match="name must be a string")
    fails(INVALID, fn, uuids.NAMESPACE_DNS, None, match="name must be a string")


# --------------------------------------------------------------------------------------------
# generators


def test_v4_shape_and_injected_randomness() -> None:
    value = uuids.v4(counting_rand)
    assert value == "00010203-0405-4607-8809-0a0b0c0d0e0f"
    assert uuids.parse(value) == {"version": 4, "variant": "RFC4122"}
    assert uuids.v4() != uuids.v4()


def test_v7_layout() -> None:
    value = uuids.v7(counting_rand, lambda: T_2024)
    parsed = std_uuid.UUID(value)
    assert parsed.int >> 80 == T_2024 // 1_000_000
    assert uuids.version(value) == 7
    assert uuids.variant(value) == "RFC4122"
    assert uuids.parse(value) == {"version": 7, "variant": "RFC4122", "timestamp": 1_700_000_000}
    # random rest: 10 bytes 00..09 with version / variant bits overwritten
    assert value == "018bcfe5-687b-7001-8203-040506070809"


def test_v7_is_time_ordered_across_milliseconds() -> None:
    clock = itertools.count(T_2024, 1_000_000)
    ids = [uuids.v7(clock_ns=lambda: next(clock)) for _ in range(20)]
    assert ids == sorted(ids)


def test_v1_layout() -> None:
    value = uuids.v1(counting_rand, lambda: T_2024)
    parsed = std_uuid.UUID(value)
    assert parsed.version == 1
    assert parsed.variant == std_uuid.RFC_4122
    assert parsed.time == T_2024 // 100 + 0x01B21DD213814000
    assert parsed.clock_seq == 0x0001
    assert parsed.node == 0x020304050607 | (1 << 40)  # multicast bit marks a random node
    assert uuids.parse(value) == {
        "version": 1,
        "variant": "RFC4122",
        "timestamp": 1_700_000_000,
        "node": "03:03:04:05:06:07",
    }


def test_v1_default_sources() -> None:
    first, second = uuids.v1(), uuids.v1()
    assert first != second
    assert uuids.version(first) == 1


def test_generators_are_deterministic_with_injected_sources() -> None:
    for gen in (uuids.v1, uuids.v7):
        assert gen(counting_rand, lambda: T_2024) == gen(counting_rand, lambda: T_2024)


@pytest.mark.parametrize(
    "rand",
    [lambda n: b"", lambda n: bytes(n + 1), lambda n: "x" * n, lambda n: 1 / 0],
)
def test_broken_random_source_is_internal(rand: Any) -> None:
    fails(INTERNAL, uuids.v4, rand, match="uuid generation failed")
    fails(INTERNAL, uuids.v7, rand, match="uuid generation failed")
    fails(INTERNAL, uuids.v1, rand, match="uuid generation failed")


def test_random_source_actor_errors_pass_through() -> None:
    """A workflow's random source may fail with its own error (e.g. cancellation): keep it."""

    def canceled(n: int) -> bytes:
        raise errors.error(errors.CANCELED, "workflow canceled")

    fails(errors.CANCELED, uuids.v4, canceled, match="workflow canceled")


@pytest.mark.parametrize("clock", [lambda: -1, lambda: 1 << 80, lambda: "soon"])
def test_bad_clock_is_internal(clock: Any) -> None:
    fails(INTERNAL, uuids.v7, counting_rand, clock)
    fails(INTERNAL, uuids.v1, counting_rand, clock)


# --------------------------------------------------------------------------------------------
# validate / version / variant / parse / format


@pytest.mark.parametrize(
    "value",
    [
        SAMPLE,
        SAMPLE.upper(),
        SAMPLE.encode(),
        SAMPLE.replace("-", ""),
        "urn:uuid:" + SAMPLE,
        "URN:UUID:" + SAMPLE,
        "{" + SAMPLE + "}",
        "00000000-0000-0000-0000-000000000000",
    ],
)
def test_validate_accepts(value: Any) -> None:
    assert uuids.validate(value) is True
    expected = SAMPLE if uuids.version(value) else "00000000-0000-0000-0000-000000000000"
    assert uuids.format(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        SAMPLE[:-1],
        SAMPLE + "0",
        SAMPLE.replace("-", "_"),
        SAMPLE.replace("a", "g"),
        SAMPLE + "\n",
        "6e081077a4b1-49f8-80e7-c98d1760042b-",
        "{" + SAMPLE,
        "urn:uuid:" + SAMPLE.replace("-", ""),
        b"\xff" * 36,
        None,
        42,
        [SAMPLE],
        {"id": SAMPLE},
    ],
)
def test_validate_rejects_without_error(value: Any) -> None:
    assert uuids.validate(value) is False


@pytest.mark.parametrize("fn", [uuids.version, uuids.variant, uuids.parse, uuids.format])
def test_malformed_input_is_invalid(fn: Any) -> None:
    fails(INVALID, fn, "not-a-uuid", match="is not a UUID")
    fails(INVALID, fn, b"\xff" * 36, match="not a UUID")
    fails(INVALID, fn, None, match="must be a string")
    fails(INVALID, fn, 7, match="must be a string")


@pytest.mark.parametrize(
    ("octet", "name"),
    [("0", "NCS"), ("7", "NCS"), ("8", "RFC4122"), ("b", "RFC4122"), ("c", "Microsoft"),
     ("d", "Microsoft"), ("e", "Future"), ("f", "Future")],
)  # fmt: skip
def test_variant(octet: str, name: str) -> None:
    assert uuids.variant(f"6e081077-a4b1-49f8-{octet}0e7-c98d1760042b") == name


def test_version_of_nil_and_others() -> None:
    assert uuids.version("00000000-0000-0000-0000-000000000000") == 0
    assert uuids.version(SAMPLE) == 4
    assert uuids.version(uuids.NAMESPACE_DNS) == 1


def test_parse_v1_stdlib_id() -> None:
    original = std_uuid.uuid1(node=0x0123456789AB, clock_seq=5)
    info = uuids.parse(str(original))
    assert info["version"] == 1
    assert info["node"] == "01:23:45:67:89:ab"
    assert abs(info["timestamp"] - (original.time - 0x01B21DD213814000) // 10**7) == 0
    assert isinstance(info["timestamp"], int)


def test_format_styles() -> None:
    upper = SAMPLE.upper()
    assert uuids.format(upper) == SAMPLE
    assert uuids.format(upper, "standard") == SAMPLE
    assert uuids.format(upper, None) == SAMPLE
    assert uuids.format(upper, b"simple") == SAMPLE.replace("-", "")
    assert uuids.format(upper, "urn") == "urn:uuid:" + SAMPLE
    fails(INVALID, uuids.format, SAMPLE, "braces", match="unsupported format style")
    fails(INVALID, uuids.format, SAMPLE, 3, match="must be a string")


# --------------------------------------------------------------------------------------------
# properties


@given(st.binary(min_size=16, max_size=16))
def test_property_any_128_bits_validate_and_parse(raw: bytes) -> None:
    reference = std_uuid.UUID(bytes=raw)
    text = str(reference)
    assert uuids.validate(text)
    assert uuids.validate(text.upper())
    assert uuids.version(text) == (reference.int >> 76) & 0xF
    assert uuids.format(uuids.format(text, "urn")) == text
    assert uuids.format(uuids.format(text, "simple")) == text
    info = uuids.parse(text)
    assert set(info) <= {"version", "variant", "timestamp", "node"}


@given(st.binary(min_size=16, max_size=16))
def test_property_v4_is_rfc_v4(raw: bytes) -> None:
    value = uuids.v4(lambda n: raw[:n])
    assert std_uuid.UUID(value).version == 4
    assert uuids.parse(value) == {"version": 4, "variant": "RFC4122"}


@given(
    st.binary(min_size=10, max_size=10),
    st.integers(min_value=0, max_value=(1 << 48) * 1_000_000 - 1),
)
def test_property_v7_round_trips_timestamp(raw: bytes, now_ns: int) -> None:
    value = uuids.v7(lambda n: raw[:n], lambda: now_ns)
    assert uuids.parse(value) == {
        "version": 7,
        "variant": "RFC4122",
        "timestamp": now_ns // 1_000_000 // 1000,
    }


@given(st.binary(min_size=8, max_size=8), st.integers(min_value=0, max_value=2**62))
def test_property_v1_round_trips_timestamp(raw: bytes, now_ns: int) -> None:
    value = uuids.v1(lambda n: raw[:n], lambda: now_ns)
    info = uuids.parse(value)
    assert info["timestamp"] == now_ns // 10**9
    assert std_uuid.UUID(value).version == 1


@given(st.text())
def test_property_validate_never_raises(value: str) -> None:
    assert uuids.validate(value) in (True, False)


def test_surrogate_escaped_names_mean_the_original_bytes() -> None:
    escaped = b"\xff\xfe".decode("utf-8", "surrogateescape")
    assert uuids.v5(uuids.NAMESPACE_DNS, escaped) == uuids.v5(uuids.NAMESPACE_DNS, b"\xff\xfe")
