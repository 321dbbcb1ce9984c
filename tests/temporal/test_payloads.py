"""The `json/plain` converter's integer shortcut writes and reads exactly what the Lua JSON
codec does (payload bytes must not change: histories recorded before it replay)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from corelib import jsoncodec
from temporal_host.protocol import LuaJSONPayloadConverter, Payload

CONVERTER = LuaJSONPayloadConverter()


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_integers_are_written_as_the_codec_writes_them(value: int) -> None:
    payload = CONVERTER.to_payload(value)
    assert payload is not None
    assert payload.data == jsoncodec.encode(value).encode()
    decoded = CONVERTER.from_payload(payload)
    assert decoded == value and type(decoded) is int


@given(st.from_regex(rb"\A-?[0-9]{1,22}(\.[0-9]+)?([eE][0-9]{1,2})?\Z"))
def test_numbers_are_read_as_the_codec_reads_them(data: bytes) -> None:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=data)
    try:
        expected = jsoncodec.decode(data)
    except Exception:
        expected = "error"
    try:
        got = CONVERTER.from_payload(payload)
    except Exception:
        got = "error"
    assert got == expected and type(got) is type(expected)


def test_other_values_take_the_codec() -> None:
    for value in (True, 2**64, 1.5, "x", {"b": 1, "a": [1, None]}):
        payload = CONVERTER.to_payload(value)
        assert payload is not None and payload.data == jsoncodec.encode(value).encode()
