"""Pure-Python core of the Lua `json` module (lua-api.md §11).

The Lua binding layer converts Lua values before calling in here: Lua strings arrive as
`bytes` (they are byte strings and may hold binary data), an array table as a `list`, any other
table as a `dict`. Everything returned is plain Python data; text results are `str`.

Encoding follows Go's `encoding/json` where the spec says "as Go does" (float formatting,
U+FFFD for invalid UTF-8), except that `<`, `>` and `&` are not HTML-escaped. Object keys are
sorted so that output is deterministic, which workflows rely on.

Schema validation is the `jsonschema` library's (draft 2020-12 by default), with Lua's empty
tables and caching by content handled here; see `validate`.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from jsonschema.protocols import Validator
from jsonschema.validators import Draft7Validator, Draft202012Validator

from actors import errors

MAX_DEPTH = 128
"""Deepest container nesting `encode` accepts (spec §11)."""

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_JSON_WHITESPACE = " \t\n\r"


# --------------------------------------------------------------------------------------------
# Text helpers


def _replace_one_byte(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: one U+FFFD per invalid byte, as Go's UTF-8 decoder does.

    Python's built-in "replace" handler swallows a whole truncated multi-byte sequence into a
    single U+FFFD; Go emits one per byte, and we want the same text as the reference.
    """
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "\ufffd", exc.start + 1


_GO_REPLACE = "actors.go_replace"
codecs.register_error(_GO_REPLACE, _replace_one_byte)
_SURROGATES = re.compile("[\ud800-\udfff]")


def to_text(value: str | bytes | bytearray) -> str:
    """Lua string (bytes) or Python str → valid Unicode text, bad sequences → U+FFFD."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", _GO_REPLACE)
    return _SURROGATES.sub("\ufffd", value)


_ESCAPE_RE = re.compile('["\\\\\x00-\x1f\u2028\u2029]')
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _quote(text: str) -> str:
    """JSON string literal; non-ASCII stays raw UTF-8, U+2028/9 are escaped as Go does."""
    return '"' + _ESCAPE_RE.sub(_escape_char, text) + '"'


def format_float(value: float) -> str:
    """Shortest round-trip text of a float, formatted like Go's `encoding/json`.

    Go uses plain decimal notation (`1` for 1.0, `100000000000000000000` for 1e20) unless
    |x| < 1e-6 or |x| >= 1e21, where it uses exponent form with a trimmed negative exponent
    (`1e-7`, `1e+21`). Inf and NaN have no JSON form and become `null`.
    """
    if not math.isfinite(value):
        return "null"
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        # repr() always uses exponent form in this range and gives the shortest digits.
        mantissa, _, exponent = repr(value).partition("e")
        return f"{mantissa}e{int(exponent):+d}"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# --------------------------------------------------------------------------------------------
# Encoding


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_sequence_keys(keys: list[Any]) -> bool:
    """True for keys exactly 1..n: such a dict is a Lua array the caller did not convert."""
    return all(_is_int(k) for k in keys) and set(keys) == set(range(1, len(keys) + 1))


def _key_problem(keys: list[Any]) -> str:
    """Explain why a dict with non-string keys cannot be encoded."""
    has_string = any(isinstance(k, str | bytes | bytearray) for k in keys)
    odd = next(k for k in keys if not isinstance(k, str | bytes | bytearray))
    if has_string:
        return "cannot encode table with mixed keys (string and non-string)"
    if all(_is_int(k) for k in keys):
        return "cannot encode sparse array (integer keys are not exactly 1..n)"
    return f"cannot encode table with non-string key {odd!r}"


class _Encoder:
    """Writes one value; tracks the containers on the current path to catch cycles."""

    def __init__(self, default: Callable[[Any], Any] | None) -> None:
        self.default = default
        self.parts: list[str] = []
        self.open: set[int] = set()

    def write(self, value: Any, depth: int) -> None:
        if value is None:
            self.parts.append("null")
        elif value is True:
            self.parts.append("true")
        elif value is False:
            self.parts.append("false")
        elif isinstance(value, int):
            self.parts.append(str(int(value)))
        elif isinstance(value, float):
            self.parts.append(format_float(value))
        elif isinstance(value, str | bytes | bytearray):
            self.parts.append(_quote(to_text(value)))
        elif isinstance(value, list | tuple):
            self._container(value, depth + 1, self._array)
        elif isinstance(value, Mapping):
            self._container(value, depth + 1, self._mapping)
        else:
            self._custom(value, depth)

    def _container(self, value: Any, depth: int, body: Callable[[Any, int], None]) -> None:
        marker = id(value)
        if marker in self.open:
            raise errors.InternalError("cannot encode cyclic table")
        if depth > MAX_DEPTH:
            raise errors.InternalError(f"cannot encode value nested deeper than {MAX_DEPTH} levels")
        self.open.add(marker)
        body(value, depth)
        self.open.discard(marker)

    def _array(self, items: list[Any] | tuple[Any, ...], depth: int) -> None:
        self.parts.append("[")
        for index, item in enumerate(items):
            if index:
                self.parts.append(",")
            self.write(item, depth)
        self.parts.append("]")

    def _mapping(self, mapping: Mapping[Any, Any], depth: int) -> None:
        keys = list(mapping.keys())
        if not all(isinstance(k, str | bytes | bytearray) for k in keys):
            if not _is_sequence_keys(keys):
                raise errors.InternalError(_key_problem(keys))
            self._array([mapping[i] for i in range(1, len(keys) + 1)], depth)
            return
        entries = sorted(((to_text(k), v) for k, v in mapping.items()), key=lambda kv: kv[0])
        self.parts.append("{")
        for index, (key, item) in enumerate(entries):
            if index:
                self.parts.append(",")
            self.parts.append(_quote(key))
            self.parts.append(":")
            self.write(item, depth)
        self.parts.append("}")

    def _custom(self, value: Any, depth: int) -> None:
        """Delegate to the `default` hook; its result counts as one nesting level."""
        replacement = NotImplemented if self.default is None else self.default(value)
        if replacement is NotImplemented:
            raise errors.InternalError(f"cannot encode {type(value).__name__}")
        if depth + 1 > MAX_DEPTH:
            raise errors.InternalError(f"cannot encode value nested deeper than {MAX_DEPTH} levels")
        self.write(replacement, depth + 1)


def encode(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """Encode a converted Lua value as compact JSON text.

    `default(obj)` converts objects this module does not know (Time, Duration, Payload and
    error userdata are the binding layer's business) into JSON-able values, or returns
    `NotImplemented`. A dict whose keys are exactly 1..n encodes as an array (it is a Lua
    sequence); an empty dict encodes as `{}` (the binding passes empty Lua tables as lists).
    """
    encoder = _Encoder(default)
    encoder.write(value, 0)
    return "".join(encoder.parts)


# --------------------------------------------------------------------------------------------
# Decoding


class _NumberError(ValueError):
    """A number literal that has no Lua representation."""


def _parse_float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise _NumberError(f"number {literal[:40]} is out of range")
    return value


def _parse_int(literal: str) -> int | float:
    """Integers that fit in 64 bits stay Lua integers; bigger ones become floats."""
    if len(literal) <= 20:
        value = int(literal)
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
    return _parse_float(literal)


def _reject_constant(literal: str) -> Any:
    raise _NumberError(f"invalid literal {literal}")


_DECODER = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_reject_constant
)
"""One decoder for every call: `json.loads` with hooks builds a decoder and its scanner on
each call, which was half the cost of decoding a small document (5 of 10 us)."""
_BOM = "\ufeff"


def decode(text: str | bytes) -> Any:
    """Decode JSON text: objects → dict with str keys, arrays → list, null → None.

    Empty input is the caller's mistake (`Invalid`); malformed JSON is `Internal`, matching
    the reference implementation.
    """
    if not isinstance(text, str | bytes | bytearray):
        raise errors.invalid(f"json.decode expects a string, got {type(text).__name__}")
    source = to_text(text)
    if not source.strip(_JSON_WHITESPACE):
        raise errors.invalid("cannot decode empty JSON input")
    try:
        if source.startswith(_BOM):  # what `json.loads` refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", source, 0)
        return _DECODER.decode(source)
    except json.JSONDecodeError as exc:
        raise errors.InternalError(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except _NumberError as exc:
        raise errors.InternalError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise errors.InternalError("invalid JSON: nesting too deep") from None


# --------------------------------------------------------------------------------------------
# Schema validation
#
# The `jsonschema` library validates. What is ours: Lua's empty table (which arrives as `[]`,
# whether the code meant `{}` or an empty array), the choice of draft, caching by content,
# no network for `$ref` (only references inside the schema resolve), and one `Invalid` error
# listing the violations as "<JSON pointer>: <message>".

_MAX_REPORTED = 10

_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"}
)
"""Keywords whose value is an object of schemas."""
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
"""Keywords whose value is an array of schemas."""
_DATA = frozenset({"enum", "const", "default", "examples", "required", "type"})
"""Keywords whose value is data, not schemas: kept exactly as given."""


def _schema_from_lua(schema: Any) -> Any:
    """A schema table from Lua: every empty table in a schema position is the empty schema
    `{}` (it arrived as `[]`), and an empty table of schemas is an empty object."""
    if isinstance(schema, list):
        return schema or {}
    if not isinstance(schema, dict):
        return schema
    out: dict[Any, Any] = {}
    for key, value in schema.items():
        name = key.decode("utf-8", "surrogateescape") if isinstance(key, bytes) else key
        if name in _DATA:
            out[key] = value
        elif name in _SCHEMA_MAPS and isinstance(value, dict | list):
            if isinstance(value, list) and not value:
                out[key] = {}
            elif isinstance(value, dict):
                out[key] = {k: _schema_from_lua(v) for k, v in value.items()}
            else:
                out[key] = value  # not an object: the metaschema check reports it
        elif name in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_schema_from_lua(v) for v in value]
        elif name == "items" and isinstance(value, list) and value:
            out[key] = [_schema_from_lua(v) for v in value]  # draft-07 tuple form
        else:
            out[key] = _schema_from_lua(value)
    return out


class _EmptyTable(list[Any]):
    """A Lua empty table in validated data: an empty array and an empty object at once."""

    def items(self) -> tuple[()]:
        return ()

    def keys(self) -> tuple[()]:
        return ()

    def values(self) -> tuple[()]:
        return ()


def _data_from_lua(value: Any) -> Any:
    if isinstance(value, list):
        return [_data_from_lua(v) for v in value] if value else _EmptyTable()
    if isinstance(value, dict):
        return {k: _data_from_lua(v) for k, v in value.items()}
    return value


def _is_object(checker: Any, value: Any) -> bool:
    return isinstance(value, dict | _EmptyTable)


def _validator_class(schema: Any) -> type[Validator]:
    """The draft: the one `$schema` names; else draft 2020-12, or draft-07 for a schema that
    uses draft-07's array form of `items`."""
    if isinstance(schema, dict) and isinstance(schema.get("$schema"), str):
        base = jsonschema.validators.validator_for(schema, default=Draft202012Validator)
    elif _uses_tuple_items(schema):
        base = Draft7Validator
    else:
        base = Draft202012Validator
    types = base.TYPE_CHECKER.redefine("object", _is_object)
    return jsonschema.validators.extend(
        base, validators={"multipleOf": _multiple_of}, type_checker=types
    )


def _uses_tuple_items(schema: Any) -> bool:
    if isinstance(schema, dict):
        if isinstance(schema.get("items"), list):
            return True
        return any(_uses_tuple_items(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_uses_tuple_items(v) for v in schema)
    return False


@functools.lru_cache(maxsize=256)
def _compiled(schema_text: str) -> Validator:
    """A validator for a schema, built once per distinct text (the spec's "cached by
    content")."""
    try:
        schema = decode(schema_text)
    except errors.ActorError as exc:
        raise errors.invalid(f"invalid schema: {exc.error.message}") from None
    cls = _validator_class(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = _pointer(exc.absolute_path)
        raise errors.invalid(f"invalid schema: {where}: {exc.message}") from None
    # An empty registry: `$ref`s resolve inside the schema only, never over the network.
    return cls(schema, registry=referencing.Registry())


def _schema_text(schema: Any) -> str:
    """The cache key: JSON text as given, or the canonical encoding of a table schema."""
    if isinstance(schema, str | bytes | bytearray):
        return to_text(schema)
    if not isinstance(schema, dict | list | bool):
        kind = type(schema).__name__
        raise errors.invalid(f"schema must be a table or a JSON string, got {kind}")
    try:
        return encode(_schema_from_lua(schema))
    except errors.ActorError as exc:
        raise errors.invalid(f"invalid schema: {exc.error.message}") from None


def compile_schema(schema: Any) -> Callable[[Any], None]:
    """Compile (or fetch from the cache) a schema; the result validates a decoded value."""
    return functools.partial(_check_instance, _compiled(_schema_text(schema)))


def _pointer(path: Iterable[Any]) -> str:
    tokens = [str(token).replace("~", "~0").replace("/", "~1") for token in path]
    return "/" + "/".join(tokens) if tokens else "(root)"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list) and not isinstance(value, _EmptyTable):
        return "array"
    return "object"


def _json(value: Any) -> str:
    return encode(value)


_BOUNDS = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
}
_SIZES = {
    "minLength": ("at least", "characters"),
    "maxLength": ("at most", "characters"),
    "minItems": ("at least", "items"),
    "maxItems": ("at most", "items"),
    "minProperties": ("at least", "properties"),
    "maxProperties": ("at most", "properties"),
}


def _message(validator: Validator, error: jsonschema.ValidationError) -> str:
    """A violation in the words of the JSON the user wrote (`true`, not Python's `True`);
    the library's own message for the keywords not listed here."""
    keyword = error.validator
    # As the library reports them: plain JSON values (the stubs type them loosely).
    expected: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema
    if keyword == "type":
        types = [expected] if isinstance(expected, str) else list(expected)
        return f"expected {' or '.join(types)}, got {_json_type(instance)}"
    if keyword == "required":
        missing = next((p for p in expected if error.message.startswith(f"{p!r} ")), "?")
        return f"missing required property {_json(missing)}"
    if keyword == "additionalProperties" and expected is False:
        extras = ", ".join(_json(k) for k in _additional(schema, instance))
        return f"additional property {extras} is not allowed"
    if keyword in _BOUNDS:
        relation = _BOUNDS[str(keyword)]
        if keyword in ("minimum", "maximum") and schema.get(f"exclusiveM{keyword[1:]}") is True:
            relation = relation[0]  # draft-04's boolean exclusiveMinimum / exclusiveMaximum
        return f"must be {relation} {_json(expected)}"
    if keyword in _SIZES:
        bound, noun = _SIZES[str(keyword)]
        return f"must have {bound} {_json(expected)} {noun}"
    if keyword == "uniqueItems":
        return "items must be unique"
    if keyword == "enum":
        return "must be one of " + ", ".join(_json(v) for v in expected)
    if keyword == "const":
        return f"must be {_json(expected)}"
    if keyword == "pattern":
        return f"must match pattern {_json(expected)}"
    if keyword == "multipleOf":
        return f"must be a multiple of {_json(expected)}"
    if keyword == "contains":
        return "must contain an item matching the schema of contains"
    if keyword == "anyOf":
        return "must match at least one schema of anyOf"
    if keyword == "oneOf":
        matched = len([s for s in expected if validator.evolve(schema=s).is_valid(instance)])
        return f"must match exactly one schema of oneOf (matched {matched})"
    if keyword == "not":
        return "must not match the schema of not"
    if keyword is None or schema is False:
        return "no value is allowed here"
    return error.message


def _additional(schema: Any, instance: Any) -> list[str]:
    properties = schema.get("properties") or {}
    patterns = schema.get("patternProperties") or {}
    return [
        key
        for key in instance
        if key not in properties and not any(re.search(p, key) for p in patterns)
    ]


def _multiple_of(validator: Validator, factor: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """`multipleOf` in decimal, as the numbers are written: 0.3 is a multiple of 0.1."""
    if not validator.is_type(instance, "number"):
        return
    if Decimal(repr(instance)) % Decimal(repr(factor)) != 0:
        yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {factor!r}")


def _check_instance(validator: Validator, instance: Any) -> None:
    try:
        found = list(itertools.islice(validator.iter_errors(instance), _MAX_REPORTED + 1))
    except RecursionError:
        raise errors.invalid("validation failed: schema recursion too deep") from None
    except referencing.exceptions.Unresolvable as exc:
        raise errors.invalid(f"invalid schema: $ref does not resolve: {exc}") from None
    if not found:
        return
    messages = [
        f"{_pointer(e.absolute_path)}: {_message(validator, e)}" for e in found[:_MAX_REPORTED]
    ]
    more = " (and more)" if len(found) > _MAX_REPORTED else ""
    raise errors.invalid("validation failed: " + "; ".join(messages) + more)


def validate(schema: Any, value: Any) -> None:
    """`json.validate`: check a converted Lua value against `schema` (table or JSON text).

    The value goes through `encode`/`decode` first, so Lua byte strings become text and the
    check sees exactly the JSON that `encode` would produce. Raises `Invalid` for a bad schema
    or a failed validation; `value is None` (Lua nil) fails with "data is required".
    """
    check = compile_schema(schema)
    if value is None:
        raise errors.invalid("validation failed: data is required")
    try:
        instance = _data_from_lua(decode(encode(value)))
    except errors.ActorError as exc:
        raise errors.invalid(f"validation failed: {exc.error.message}") from None
    check(instance)


def validate_string(schema: Any, text: str | bytes | None) -> None:
    """`json.validate_string`: like `validate`, for a JSON document given as text."""
    check = compile_schema(schema)
    if text is None or (isinstance(text, str | bytes | bytearray) and not _has_content(text)):
        raise errors.invalid("validation failed: data is required")
    try:
        instance = decode(text)
    except errors.ActorError as exc:
        raise errors.invalid(f"validation failed: {exc.error.message}") from None
    check(instance)


def _has_content(text: str | bytes | bytearray) -> bool:
    return bool(to_text(text).strip(_JSON_WHITESPACE))
