"""The `json/plain` converter's shortcuts (integers, booleans, plain strings) write and read
exactly what the Lua JSON codec does (payload bytes must not change: histories recorded before
them replay)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    PayloadCodec,
    WorkflowSerializationContext,
)

from actors.errors import ActorError
from corelib import jsoncodec
from temporal_host.protocol import (
    CONTEXT_HEADER,
    DATA_CONVERTER,
    ContextFreeDataConverter,
    LuaJSONPayloadConverter,
    Payload,
    context_header,
    from_payload,
    read_context,
    to_payload,
)

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


PLAIN = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(),
    st.booleans(),
    st.text(),
    st.text(alphabet=st.characters(max_codepoint=127)),
    st.text(alphabet='ab "\\/\n\t\x00\x1f\x7fé\u2028\ud800<&'),
    st.floats(),
    st.none(),
    st.binary(),
)


@given(PLAIN)
@example('a"b')
@example("a\\b")
@example("\u2028")
def test_plain_values_make_the_payloads_the_converter_makes(value: object) -> None:
    """`protocol.to_payload`'s shortcut and the composite converter agree byte for byte
    (strings with quotes, backslashes, control or non-ASCII characters take the codec)."""
    try:
        expected = DATA_CONVERTER.payload_converter.to_payloads([value])[0]
    except Exception:
        expected = None
    try:
        got = to_payload(value)
    except Exception:
        got = None
    assert got == expected
    if got is not None:
        assert got.SerializeToString(deterministic=True) == expected.SerializeToString(
            deterministic=True
        )
        assert from_payload(got) == DATA_CONVERTER.payload_converter.from_payloads([got])[0]


def test_from_payload_refuses_what_the_converter_refuses() -> None:
    foreign = Payload(metadata={"encoding": b"json/protobuf"}, data=b"{}")
    with pytest.raises(KeyError):
        from_payload(foreign)
    broken = Payload(metadata={"encoding": b"json/plain"}, data=b"{")
    with pytest.raises(ActorError):
        from_payload(broken)


CONTEXTS = [
    WorkflowSerializationContext(namespace="default", workflow_id="wf-1"),
    ActivitySerializationContext(
        namespace="default",
        workflow_id="wf-1",
        workflow_type="app:flow",
        activity_type="app:double",
        activity_task_queue="queue",
        activity_id="1",
        is_local=False,
    ),
]


@pytest.mark.parametrize("context", CONTEXTS, ids=type)
def test_the_data_converter_is_the_same_in_every_context(context: object) -> None:
    """The SDK asks for a converter with context for every payload it visits; ours ignores
    context, so it answers with itself rather than a rebuilt copy."""
    assert DATA_CONVERTER.with_context(context) is DATA_CONVERTER  # type: ignore[arg-type]
    converter = DATA_CONVERTER.payload_converter
    assert converter.with_context(context) is converter  # type: ignore[attr-defined]


def test_a_converter_made_as_the_sdk_makes_one_writes_the_same_payloads() -> None:
    """The SDK builds a data converter from our payload converter class on every workflow
    activation; that one, made without rebuilding its parts, encodes and decodes as ours."""
    made = DataConverter(payload_converter_class=DATA_CONVERTER.payload_converter_class)
    values = [None, b"\x00bytes", 7, "text", {"nested": [1, 2.5, True]}]
    payloads = made.payload_converter.to_payloads(values)
    assert payloads == DATA_CONVERTER.payload_converter.to_payloads(values)
    assert [p.metadata["encoding"] for p in payloads] == [
        b"binary/null",
        b"binary/plain",
        b"json/plain",
        b"json/plain",
        b"json/plain",
    ]
    assert made.payload_converter.from_payloads(payloads) == values


def test_a_context_free_converter_refuses_a_codec() -> None:
    """A codec may depend on the context, which `with_context` would drop."""

    class Codec(PayloadCodec):
        async def encode(self, payloads):  # type: ignore[no-untyped-def]
            return list(payloads)

        async def decode(self, payloads):  # type: ignore[no-untyped-def]
            return list(payloads)

    with pytest.raises(ValueError, match="codec"):
        ContextFreeDataConverter(payload_codec=Codec())


@pytest.mark.parametrize(
    ("values", "sender", "carried"),
    [
        ({}, None, None),
        ({"handler": object()}, None, None),  # nothing that may travel
        ({}, "{n@h|p}", ({}, "{n@h|p}")),
        ({"trace": "t-1", "handler": object()}, None, ({"trace": "t-1"}, None)),
    ],
    ids=["empty", "nothing-safe", "sender-only", "values"],
)
def test_an_empty_context_header_is_not_made(
    values: dict[str, object], sender: str | None, carried: object
) -> None:
    """A header with nothing to carry is not sent; one that carries something reads back
    as it was written, and no header reads as the empty context."""
    header = context_header(values, sender)
    if carried is None:
        assert header is None
        assert read_context({}) == ({}, None)
    else:
        assert header is not None
        assert read_context({CONTEXT_HEADER: header}) == carried
