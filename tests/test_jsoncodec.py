"""Tests for the `json` module core (`corelib.jsoncodec`, spec §11)."""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.errors import INTERNAL, INVALID, ActorError
from corelib import jsoncodec
from corelib.jsoncodec import decode, encode, validate, validate_string


def fails(kind: str, fn: Any, *args: Any, match: str = "") -> ActorError:
    """Assert `fn(*args)` raises an ActorError of `kind` whose message contains `match`."""
    with pytest.raises(ActorError) as info:
        fn(*args)
    assert info.value.kind == kind, info.value
    assert match in info.value.error.message
    return info.value


# --------------------------------------------------------------------------------------------
# encode


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-(2**63), "-9223372036854775808"),
        ([1, 2, 3], "[1,2,3]"),
        ((1, "a"), '[1,"a"]'),
        ([], "[]"),
        ({}, "{}"),
        ({"b": 1, "a": [True, None]}, '{"a":[true,null],"b":1}'),
        ({b"k": b"v"}, '{"k":"v"}'),
        ({1: "a", 2: "b"}, '["a","b"]'),
        ("héllo", '"héllo"'),
    ],
)
def test_encode_basic(value: Any, text: str) -> None:
    assert encode(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.14, "3.14"),
        (1.0, "1"),
        (-2.0, "-2"),
        (0.1, "0.1"),
        (-0.0, "-0"),
        (123456789.0, "123456789"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (2.5e-7, "2.5e-7"),
        (1e-10, "1e-10"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (math.inf, "null"),
        (-math.inf, "null"),
        (math.nan, "null"),
    ],
)
def test_encode_floats_like_go(value: float, text: str) -> None:
    assert encode(value) == text


def test_encode_escapes() -> None:
    assert encode('a"b\\c\n\r\t\b\f\x01\x1f') == '"a\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f"'
    assert encode("\u2028\u2029") == '"\\u2028\\u2029"'
    assert encode("<&>\x7f") == '"<&>\x7f"'  # no HTML escaping


def test_encode_invalid_utf8_replaced_per_byte_like_go() -> None:
    # a truncated 3-byte sequence gives two U+FFFD (one per byte), as in Go
    assert encode(b"a\xe2\x82b\xff") == '"a\ufffd\ufffdb\ufffd"'
    assert encode({b"\xff": 1}) == '{"\ufffd":1}'
    assert encode("lone \ud800") == '"lone \ufffd"'


def test_encode_keys_sorted_by_byte_order() -> None:
    value = {"é": 1, "z": 2, "A": 3, "a": 4, b"\xf0\x9f\x98\x80": 5, "\uffff": 6}
    text = encode(value)
    assert list(json.loads(text)) == ["A", "a", "z", "é", "\uffff", "😀"]


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({1: "a", 3: "c"}, "sparse array"),
        ({2: "a"}, "sparse array"),
        ({1: "a", "x": "b"}, "mixed keys"),
        ({b"x": 1, 2: 2}, "mixed keys"),
        ({1.5: "a"}, "non-string key"),
        ({True: "a"}, "non-string key"),
    ],
)
def test_encode_bad_keys_are_internal(value: Any, match: str) -> None:
    fails(INTERNAL, encode, value, match=match)


def test_encode_cycle_is_internal() -> None:
    items: list[Any] = [1]
    items.append(items)
    fails(INTERNAL, encode, items, match="cyclic")
    table: dict[str, Any] = {}
    table["self"] = table
    fails(INTERNAL, encode, table, match="cyclic")


def test_encode_shared_non_cyclic_value_is_fine() -> None:
    shared = [1]
    assert encode([shared, shared]) == "[[1],[1]]"


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_encode_depth_limit() -> None:
    assert encode(nested(128)) == "[" * 128 + "]" * 128
    fails(INTERNAL, encode, nested(129), match="128")


def test_encode_unknown_type_is_internal() -> None:
    fails(INTERNAL, encode, object(), match="cannot encode object")
    fails(INTERNAL, encode, {"f": print}, match="cannot encode builtin_function_or_method")


def test_encode_default_hook() -> None:
    class Stamp:
        pass

    def default(obj: Any) -> Any:
        return {"stamp": 1} if isinstance(obj, Stamp) else NotImplemented

    assert encode([Stamp()], default=default) == '[{"stamp":1}]'
    fails(INTERNAL, encode, [object()], default, match="cannot encode object")


def test_encode_default_hook_cannot_loop_forever() -> None:
    class Endless:
        pass

    fails(INTERNAL, encode, Endless(), lambda obj: Endless(), match="128")


# --------------------------------------------------------------------------------------------
# decode


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("null", None),
        ("42", 42),
        (b"42", 42),
        ("-0", 0),
        ("true", True),
        ('"x"', "x"),
        ("[1,2,3]", [1, 2, 3]),
        ('{"a":{"b":[]}}', {"a": {"b": []}}),
        (" \t\n 7 \r\n", 7),
        ('"\\u00e9\\ud83d\\ude00"', "é😀"),
    ],
)
def test_decode_basic(text: str | bytes, value: Any) -> None:
    assert decode(text) == value


def test_decode_numbers_keep_integer_float_distinction() -> None:
    assert type(decode("1")) is int
    assert type(decode("1.0")) is float
    assert type(decode("1e2")) is float
    assert type(decode("9223372036854775807")) is int
    assert type(decode("-9223372036854775808")) is int
    assert decode("9223372036854775808") == 9223372036854775808.0
    assert type(decode("9223372036854775808")) is float
    assert type(decode("-9223372036854775809")) is float
    assert type(decode("1" * 300)) is float
    fails(INTERNAL, decode, "1" * 400, match="out of range")  # no float can hold it (as Go)


def test_decode_invalid_utf8_in_strings_replaced() -> None:
    assert decode(b'"a\xffb"') == "a\ufffdb"


@pytest.mark.parametrize("text", ["", b"", "   ", " \n\t\r "])
def test_decode_empty_is_invalid(text: str | bytes) -> None:
    fails(INVALID, decode, text, match="empty")


def test_decode_non_string_is_invalid() -> None:
    fails(INVALID, decode, 42)


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "[1,]",
        "{'a':1}",
        "tru",
        "01",
        "1 2",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "\ufeff1",
        '"\x01"',
        "\x0b1",
        "[" * 100_000,
    ],
)
def test_decode_malformed_is_internal(text: str) -> None:
    fails(INTERNAL, decode, text, match="invalid JSON")


def test_decode_error_mentions_position() -> None:
    fails(INTERNAL, decode, '{"a": }', match="line 1 column 7")


def test_decode_says_a_byte_order_mark_is_refused() -> None:
    fails(
        INTERNAL,
        decode,
        '\ufeff{"a": 1}',
        match="Unexpected UTF-8 BOM (decode using utf-8-sig) at line 1 column 1",
    )


def test_decode_from_several_threads_at_once() -> None:
    """One decoder serves every call (its key memo is shared): threads decoding different
    documents, with keys in common, each get their own document back."""
    documents = [{"k": i, "shared": [i, {"k": str(i)}], f"own{i}": i * 1.5} for i in range(4)]
    texts = [encode(document) for document in documents]
    wrong: list[Any] = []

    def decode_many(i: int) -> None:
        for _ in range(2000):
            value = decode(texts[i])
            if value != documents[i]:
                wrong.append(value)

    threads = [threading.Thread(target=decode_many, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


# --------------------------------------------------------------------------------------------
# round-trip properties


def json_values(floats: st.SearchStrategy[float]) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**63 - 1)
        | floats
        | st.text()
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=5)
            | st.dictionaries(st.text(max_size=8), children, max_size=5)
        ),
        max_leaves=30,
    )


finite_floats = st.floats(allow_nan=False, allow_infinity=False)
any_values = json_values(finite_floats)
# -0.0 encodes as "-0" (as Go does), which decodes to the integer 0 and re-encodes as "0"
unsigned_zero_values = json_values(finite_floats.map(lambda f: f + 0.0))


def same_json(original: Any, decoded: Any) -> bool:
    """Equality after a round trip. Integral floats may come back as ints (spec: `1.0` → `1`),
    and above 2**53 that int is the shortest decimal, which converts back to the same float
    without being mathematically equal to it (Go behaves the same). Other types are kept."""
    if isinstance(original, float):
        if original.is_integer() and isinstance(decoded, int) and not isinstance(decoded, bool):
            return float(decoded) == original
        return isinstance(decoded, float) and decoded == original
    if isinstance(original, list):
        return (
            isinstance(decoded, list)
            and len(original) == len(decoded)
            and all(same_json(a, b) for a, b in zip(original, decoded, strict=True))
        )
    if isinstance(original, dict):
        return (
            isinstance(decoded, dict)
            and original.keys() == decoded.keys()
            and all(same_json(original[k], decoded[k]) for k in original)
        )
    return type(original) is type(decoded) and original == decoded


@given(any_values)
def test_property_round_trip(value: Any) -> None:
    assert same_json(value, decode(encode(value)))


@given(unsigned_zero_values)
def test_property_output_is_standard_json(value: Any) -> None:
    text = encode(value)
    assert same_json(value, json.loads(text))
    assert encode(decode(text)) == text  # canonical: re-encoding is stable


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_property_float_text_round_trips_exactly(value: float) -> None:
    assert float(encode(value)) == value


@given(st.binary())
def test_property_bytes_become_valid_text(value: bytes) -> None:
    decoded = decode(encode(value))
    assert isinstance(decoded, str)
    assert decoded == value.decode("utf-8", "actors.go_replace")


# --------------------------------------------------------------------------------------------
# validate


PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 10},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    },
    "required": ["name"],
    "additionalProperties": False,
}


def test_validate_accepts_valid_data() -> None:
    validate(PERSON, {b"name": b"Ann", b"age": 30, b"tags": [b"a", b"b"]})
    validate(PERSON, {"name": "Ann", "age": 30.0})  # 30.0 is an integer in JSON Schema


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"age": 3}, 'missing required property "name"'),
        ({"name": ""}, "/name: must have at least 1 characters"),
        ({"name": "x" * 11}, "/name: must have at most 10 characters"),
        ({"name": "a", "age": -1}, "/age: must be >= 0"),
        ({"name": "a", "age": 151}, "/age: must be <= 150"),
        ({"name": "a", "age": 1.5}, "/age: expected integer, got number"),
        ({"name": "a", "age": "1"}, "/age: expected integer, got string"),
        ({"name": "a", "tags": ["x", "x"]}, "/tags: items must be unique"),
        ({"name": "a", "tags": ["x", 2]}, "/tags/1: expected string, got integer"),
        ({"name": "a", "extra": 1}, 'additional property "extra" is not allowed'),
        ("str", "(root): expected object, got string"),
    ],
)
def test_validate_failures_are_invalid_with_readable_messages(value: Any, match: str) -> None:
    fails(INVALID, validate, PERSON, value, match=match)


def test_validate_nil_data_is_required() -> None:
    fails(INVALID, validate, PERSON, None, match="data is required")
    fails(INVALID, validate, {}, None, match="data is required")
    fails(INVALID, validate_string, PERSON, "", match="data is required")
    fails(INVALID, validate_string, PERSON, None, match="data is required")


def test_validate_schema_as_json_string() -> None:
    schema = json.dumps(PERSON)
    validate(schema, {"name": "Ann"})
    validate(schema.encode(), {"name": "Ann"})
    fails(INVALID, validate, schema, {"name": 1}, match="/name: expected string")


def test_validate_string() -> None:
    validate_string(PERSON, '{"name": "Ann"}')
    validate_string(PERSON, b'{"name": "Ann"}')
    fails(INVALID, validate_string, PERSON, '{"name": 2}', match="/name")
    fails(INVALID, validate_string, PERSON, "{bad", match="invalid JSON")


def test_lua_empty_tables_arrive_as_lists() -> None:
    validate([], {"anything": 1})  # `{}` schema
    validate({"type": "object", "properties": [], "required": []}, [])
    fails(INVALID, validate, {"type": "object", "required": ["a"]}, [], match="missing")
    validate({"type": "array", "maxItems": 0}, [])


@pytest.mark.parametrize(
    ("schema", "good", "bad", "match"),
    [
        ({"type": ["string", "null"]}, "x", 1, "expected string or null"),
        ({"type": "number"}, 1.5, True, "got boolean"),
        ({"type": "integer"}, 3, 3.5, "expected integer"),
        ({"type": "boolean"}, False, 0, "expected boolean"),
        ({"type": "array"}, [1], {"a": 1}, "expected array"),
        ({"enum": ["a", 1, None]}, 1.0, "b", 'must be one of "a", 1, null'),
        ({"enum": [1]}, 1, True, "must be one of 1"),
        ({"const": {"a": [1]}}, {"a": [1.0]}, {"a": [2]}, 'must be {"a":[1]}'),
        ({"exclusiveMinimum": 0}, 0.5, 0, "must be > 0"),
        ({"exclusiveMaximum": 10}, 9, 10, "must be < 10"),
        (
            {
                "$schema": "http://json-schema.org/draft-04/schema#",
                "maximum": 5,
                "exclusiveMaximum": True,
            },
            4,
            5,
            "must be < 5",  # draft-04's boolean form, when the schema says it is draft-04
        ),
        ({"multipleOf": 3}, 9, 10, "multiple of 3"),
        ({"multipleOf": 0.1}, 0.3, 0.35, "multiple of 0.1"),
        ({"pattern": "^[a-z]+$"}, "abc", "aBc", 'must match pattern "^[a-z]+$"'),
        ({"minItems": 2}, [1, 2], [1], "at least 2 items"),
        ({"maxItems": 1}, [1], [1, 2], "at most 1 items"),
        ({"uniqueItems": True}, [1, "1", True], [1, 1.0], "unique"),
        ({"minProperties": 1}, {"a": 1}, {}, "at least 1 properties"),
        ({"maxProperties": 1}, {"a": 1}, {"a": 1, "b": 2}, "at most 1 properties"),
        ({"contains": {"type": "string"}}, [1, "a"], [1, 2], "must contain"),
        ({"anyOf": [{"type": "string"}, {"minimum": 5}]}, 6, 4, "anyOf"),
        ({"oneOf": [{"type": "integer"}, {"minimum": 5}]}, 3, 6, "matched 2"),
        ({"allOf": [{"minimum": 1}, {"maximum": 3}]}, 2, 4, "must be <= 3"),
        ({"not": {"type": "string"}}, 1, "a", "must not match"),
        (
            {"if": {"type": "integer"}, "then": {"minimum": 0}, "else": {"type": "string"}},
            "x",
            -1,
            "must be >= 0",
        ),
        (
            {"if": {"type": "integer"}, "then": {"minimum": 0}, "else": {"type": "string"}},
            1,
            1.5,
            "expected string",
        ),
        (
            {"items": [{"type": "integer"}], "additionalItems": False},  # draft-07 form
            [1],
            [1, 2],
            "Additional items are not allowed",
        ),
        (
            {"prefixItems": [{"type": "integer"}], "items": {"type": "string"}},
            [1, "a"],
            [1, 2],
            "/1: expected string",
        ),
        ({"items": {"type": "integer"}}, [1, 2], [1, "x"], "/1: expected integer"),
        (
            {"patternProperties": {"^n_": {"type": "integer"}}, "additionalProperties": False},
            {"n_a": 1},
            {"n_a": 1, "b": 2},
            'additional property "b"',
        ),
        (
            {"properties": {"a": {}}, "additionalProperties": {"type": "string"}},
            {"a": 1, "b": "x"},
            {"b": 1},
            "/b: expected string",
        ),
        ({"propertyNames": {"maxLength": 2}}, {"ab": 1}, {"abc": 1}, "at most 2 characters"),
        ({"format": "email"}, "not an email", 5, "UNREACHABLE"),
        (False, None, 1, "no value is allowed"),
    ],
)
def test_validate_keywords(schema: Any, good: Any, bad: Any, match: str) -> None:
    if good is not None:
        validate(schema, good)
    if match == "UNREACHABLE":  # format is ignored: anything passes
        validate(schema, bad)
        return
    fails(INVALID, validate, schema, bad, match=match)


def test_validate_refs_to_definitions_and_defs() -> None:
    schema = {
        "definitions": {"pos": {"type": "integer", "minimum": 1}},
        "$defs": {"name": {"type": "string"}},
        "properties": {"n": {"$ref": "#/definitions/pos"}, "s": {"$ref": "#/$defs/name"}},
    }
    validate(schema, {"n": 1, "s": "x"})
    fails(INVALID, validate, schema, {"n": 0}, match="/n: must be >= 1")
    fails(INVALID, validate, schema, {"s": 1}, match="/s: expected string")


def test_validate_recursive_ref() -> None:
    tree = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["value"],
            }
        },
        "$ref": "#/$defs/node",
    }
    validate(tree, {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]})
    fails(
        INVALID,
        validate,
        tree,
        {"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]},
        match="/children/0/children/0/value: expected integer",
    )


def test_validate_ref_to_root_and_escaped_pointer() -> None:
    schema = {
        "properties": {"a/b": {"type": "integer"}, "next": {"$ref": "#"}},
        "definitions": {"x~y": {"const": 1}},
    }
    validate(schema, {"a/b": 1, "next": {"a/b": 2}})
    fails(INVALID, validate, schema, {"next": {"a/b": "x"}}, match="/next/a~1b")
    validate({"definitions": {"x~y": {"const": 1}}, "$ref": "#/definitions/x~0y"}, 1)


def test_validate_reports_several_errors() -> None:
    error = fails(INVALID, validate, PERSON, {"age": -1, "zz": 1})
    message = error.error.message
    assert "missing required" in message
    assert "must be >= 0" in message
    assert "additional property" in message


def test_validate_caps_reported_errors() -> None:
    schema = {"items": {"type": "string"}}
    error = fails(INVALID, validate, schema, list(range(50)))
    assert "(and more)" in error.error.message
    assert error.error.message.count("expected string") == 10


@pytest.mark.parametrize(
    ("schema", "match"),
    [
        ({"type": "strin"}, "/type: 'strin' is not valid"),
        ({"type": []}, "/type: [] is not valid"),
        ({"minimum": "1"}, "/minimum: '1' is not of type 'number'"),
        ({"minLength": -1}, "/minLength: -1 is less than the minimum of 0"),
        ({"maxItems": 1.5}, "/maxItems: 1.5 is not of type 'integer'"),
        ({"required": "name"}, "/required: 'name' is not of type 'array'"),
        ({"pattern": "("}, "/pattern: '(' is not a 'regex'"),
        ({"properties": {"a": 1}}, "/properties/a: 1 is not of type 'object', 'boolean'"),
        ({"anyOf": []}, "/anyOf: [] should be non-empty"),
        ({"enum": "a"}, "/enum: 'a' is not of type 'array'"),
        ({"multipleOf": 0}, "/multipleOf: 0 is less than or equal to the minimum of 0"),
        ({"$ref": "#/definitions/missing"}, "does not resolve"),
        ({"$ref": "other.json#/x"}, "does not resolve"),  # never fetched: no network
        ({"$ref": "#anchor"}, "does not resolve"),
        ([1], "(root): [1] is not of type 'object', 'boolean'"),
        ("{not json", "invalid schema"),
        ("", "invalid schema"),
    ],
)
def test_schema_compile_errors_are_invalid(schema: Any, match: str) -> None:
    fails(INVALID, validate, schema, 1, match=match)


def test_schema_of_wrong_type_is_invalid() -> None:
    fails(INVALID, validate, 42, 1, match="schema must be a table or a JSON string")


def test_unencodable_value_is_invalid() -> None:
    fails(INVALID, validate, {}, {"f": object()}, match="cannot encode")


def test_schema_recursion_without_progress_is_invalid() -> None:
    fails(INVALID, validate, {"$ref": "#"}, 1, match="recursion")


def test_schemas_are_cached_by_content() -> None:
    jsoncodec._compiled.cache_clear()
    validate({"type": "integer", "minimum": 0}, 1)
    validate({b"minimum": 0, b"type": b"integer"}, 2)  # same content, other key order / bytes
    info = jsoncodec._compiled.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    checker = jsoncodec.compile_schema({"type": "integer", "minimum": 0})
    checker(5)
    assert jsoncodec._compiled.cache_info().hits == 2


def test_surrogate_escaped_text_encodes_like_the_bytes() -> None:
    """`convert.text` passes binary Lua strings as str with surrogate escapes."""
    raw = b"a\xe2\x82b\xff"
    assert encode(raw.decode("utf-8", "surrogateescape")) == encode(raw)
