"""Pure-Python core of the Lua `json` module (lua-api.md §11).

The Lua binding layer converts Lua values before calling in here: Lua strings arrive as
`bytes` (they are byte strings and may hold binary data), an array table as a `list`, any other
table as a `dict`. Everything returned is plain Python data; text results are `str`.

Encoding follows Go's `encoding/json` where the spec says "as Go does" (float formatting,
U+FFFD for invalid UTF-8), except that `<`, `>` and `&` are not HTML-escaped. Object keys are
sorted so that output is deterministic, which workflows rely on.

Schema validation implements a draft-07 / 2020-12 subset in this file (the `jsonschema`
package is not a dependency); see `validate`.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

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


def _internal(message: str) -> errors.ActorError:
    return errors.error(errors.INTERNAL, message)


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
            raise _internal("cannot encode cyclic table")
        if depth > MAX_DEPTH:
            raise _internal(f"cannot encode value nested deeper than {MAX_DEPTH} levels")
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
                raise _internal(_key_problem(keys))
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
            raise _internal(f"cannot encode {type(value).__name__}")
        if depth + 1 > MAX_DEPTH:
            raise _internal(f"cannot encode value nested deeper than {MAX_DEPTH} levels")
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
        return json.loads(
            source,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise _internal(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except _NumberError as exc:
        raise _internal(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise _internal("invalid JSON: nesting too deep") from None


# --------------------------------------------------------------------------------------------
# Schema validation
#
# A schema compiles into a tree of `_Node`s. Each node holds one `Check` per keyword it uses;
# a check yields readable messages ("/age: must be >= 0") for the violations it finds. Nodes
# are cached per location so that recursive `$ref`s compile once and terminate.


class SchemaError(Exception):
    """Raised while compiling a schema; reported to Lua as `Invalid`."""


Check = Callable[[Any, str], Iterator[str]]
"""A compiled keyword: yields one message per violation of `value` found at `path`."""

_MAX_REPORTED = 10


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
    if isinstance(value, list):
        return "array"
    return "object"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integral(value: Any) -> bool:
    """JSON Schema's "integer": 1.0 counts (draft-06 and later)."""
    return _is_int(value) or (isinstance(value, float) and value.is_integer())


def _as_object(value: Any) -> dict[str, Any] | None:
    """The value as a JSON object; an empty list counts, since `{}` in Lua arrives as `[]`."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and not value:
        return {}
    return None


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": _is_integral,
    "number": _is_number,
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: _as_object(v) is not None,
}


def _at(path: str, message: str) -> str:
    return f"{path or '(root)'}: {message}"


def _child(path: str, key: str | int) -> str:
    """Extend a JSON Pointer by one (escaped) token."""
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"{path}/{token}"


def _canonical(value: Any) -> str:
    """JSON-equality key: `1` and `1.0` match, `true` and `1` do not, key order is irrelevant."""
    return encode(value)


def _format_number(value: float) -> str:
    return str(value) if isinstance(value, int) else format_float(value)


class _Node:
    """A compiled (sub)schema: the checks of its keywords, run in order."""

    __slots__ = ("checks",)

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def errors(self, value: Any, path: str) -> Iterator[str]:
        for check in self.checks:
            yield from check(value, path)

    def accepts(self, value: Any) -> bool:
        return next(self.errors(value, ""), None) is None


def _resolve_pointer(root: Any, ref: str) -> Any:
    """Follow a local `#/a/b` reference (JSON Pointer, ~0/~1 and %-escapes) inside `root`."""
    if not ref.startswith("#"):
        raise SchemaError(f"unsupported $ref {ref!r} (only local '#/...' references)")
    pointer = unquote(ref[1:])
    if pointer and not pointer.startswith("/"):
        raise SchemaError(f"unsupported $ref {ref!r} (anchors are not supported)")
    target = root
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and token in target:
            target = target[token]
        elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
            target = target[int(token)]
        else:
            raise SchemaError(f"$ref {ref!r} does not resolve")
    return target


Builder = Callable[["_Compiler", dict[str, Any], str], Check | None]


class _Compiler:
    """Turns a decoded schema into `_Node`s, one per location (`where`, a unique key)."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.nodes: dict[str, _Node] = {}

    def compile(self, schema: Any, where: str) -> _Node:
        if where in self.nodes:
            return self.nodes[where]
        node = self.nodes[where] = _Node()
        if schema is True or (isinstance(schema, list) and not schema):
            return node  # `true`, and `{}` (a Lua empty table arrives as []), accept anything
        if schema is False:
            node.checks.append(lambda v, p: iter([_at(p, "no value is allowed here")]))
            return node
        if not isinstance(schema, dict):
            raise SchemaError(f"schema at {where} must be an object or boolean")
        used: set[Builder] = set()
        for keyword, builder in _KEYWORDS.items():
            if keyword in schema and builder not in used:
                used.add(builder)
                check = builder(self, schema, where)
                if check is not None:
                    node.checks.append(check)
        return node

    def ref(self, ref: str) -> _Node:
        """The node a `$ref` points at; keyed apart from plain locations to avoid clashes."""
        key = f"$ref {ref}"
        if key in self.nodes:
            return self.nodes[key]
        return self.compile(_resolve_pointer(self.root, ref), key)

    def subschema(self, schema: Any, where: str) -> _Node:
        if isinstance(schema, dict | bool) or (isinstance(schema, list) and not schema):
            return self.compile(schema, where)
        raise SchemaError(f"{where} must be a schema")

    def schema_list(self, schemas: Any, where: str) -> list[_Node]:
        if not isinstance(schemas, list) or not schemas:
            raise SchemaError(f"{where} must be a non-empty array of schemas")
        return [self.subschema(s, _child(where, i)) for i, s in enumerate(schemas)]

    def schema_map(self, schemas: Any, where: str) -> dict[str, _Node]:
        mapping = _as_object(schemas)
        if mapping is None:
            raise SchemaError(f"{where} must be an object of schemas")
        return {k: self.subschema(s, _child(where, k)) for k, s in mapping.items()}


def _number(schema: dict[str, Any], keyword: str, where: str) -> float:
    value = schema[keyword]
    if not _is_number(value):
        raise SchemaError(f"{where}/{keyword} must be a number")
    return value


def _count(schema: dict[str, Any], keyword: str, where: str) -> int:
    value = schema[keyword]
    if not _is_integral(value) or value < 0:
        raise SchemaError(f"{where}/{keyword} must be a non-negative integer")
    return int(value)


def _regex(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise SchemaError(f"{where} must be a string")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SchemaError(f"{where} is not a valid regular expression: {exc}") from None


# Keyword builders: (compiler, schema object, location of that schema) -> Check | None.


def _k_ref(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    ref = s["$ref"]
    if not isinstance(ref, str):
        raise SchemaError(f"{where}/$ref must be a string")
    return c.ref(ref).errors


def _k_type(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    names = s["type"] if isinstance(s["type"], list) else [s["type"]]
    if not names or not all(isinstance(n, str) and n in _TYPE_TESTS for n in names):
        raise SchemaError(f"{where}/type: unknown type {s['type']!r}")
    tests = [_TYPE_TESTS[name] for name in names]
    expected = " or ".join(names)

    def check(value: Any, path: str) -> Iterator[str]:
        if not any(test(value) for test in tests):
            yield _at(path, f"expected {expected}, got {_json_type(value)}")

    return check


def _k_enum(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    options = s["enum"]
    if not isinstance(options, list):
        raise SchemaError(f"{where}/enum must be an array")
    allowed = {_canonical(o) for o in options}
    shown = ", ".join(_canonical(o) for o in options)

    def check(value: Any, path: str) -> Iterator[str]:
        if _canonical(value) not in allowed:
            yield _at(path, f"must be one of {shown}")

    return check


def _k_const(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    expected = _canonical(s["const"])

    def check(value: Any, path: str) -> Iterator[str]:
        if _canonical(value) != expected:
            yield _at(path, f"must be {expected}")

    return check


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda v, limit: v >= limit,
    ">": lambda v, limit: v > limit,
    "<=": lambda v, limit: v <= limit,
    "<": lambda v, limit: v < limit,
}


def _numeric_check(limit: float, relation: str) -> Check:
    holds = _COMPARISONS[relation]

    def check(value: Any, path: str) -> Iterator[str]:
        if _is_number(value) and not holds(value, limit):
            yield _at(path, f"must be {relation} {_format_number(limit)}")

    return check


def _k_minimum(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    # draft-04 spelled a strict bound as `exclusiveMinimum: true` next to `minimum`
    strict = s.get("exclusiveMinimum") is True
    return _numeric_check(_number(s, "minimum", where), ">" if strict else ">=")


def _k_maximum(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    strict = s.get("exclusiveMaximum") is True
    return _numeric_check(_number(s, "maximum", where), "<" if strict else "<=")


def _k_exclusive_minimum(c: _Compiler, s: dict[str, Any], where: str) -> Check | None:
    if isinstance(s["exclusiveMinimum"], bool):
        return None  # draft-04 form, handled by _k_minimum
    return _numeric_check(_number(s, "exclusiveMinimum", where), ">")


def _k_exclusive_maximum(c: _Compiler, s: dict[str, Any], where: str) -> Check | None:
    if isinstance(s["exclusiveMaximum"], bool):
        return None
    return _numeric_check(_number(s, "exclusiveMaximum", where), "<")


def _k_multiple_of(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    divisor = _number(s, "multipleOf", where)
    if divisor <= 0:
        raise SchemaError(f"{where}/multipleOf must be greater than 0")

    def is_multiple(value: float) -> bool:
        if _is_int(value) and _is_int(divisor):
            return value % divisor == 0
        quotient = value / divisor
        return math.isfinite(quotient) and abs(quotient - round(quotient)) < 1e-9

    def check(value: Any, path: str) -> Iterator[str]:
        if _is_number(value) and not is_multiple(value):
            yield _at(path, f"must be a multiple of {_format_number(divisor)}")

    return check


def _size_limit(keyword: str, subject: Callable[[Any], Any], noun: str) -> Builder:
    """Builder for min/max Length, Items and Properties; `subject` picks what is measured
    (or returns None when the keyword does not apply to the value)."""
    at_least = keyword.startswith("min")

    def build(c: _Compiler, s: dict[str, Any], where: str) -> Check:
        limit = _count(s, keyword, where)

        def check(value: Any, path: str) -> Iterator[str]:
            measured = subject(value)
            if measured is None:
                return
            size = len(measured)
            if (size < limit) if at_least else (size > limit):
                bound = "at least" if at_least else "at most"
                yield _at(path, f"must have {bound} {limit} {noun}")

        return check

    return build


def _string_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list_or_none(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None


def _k_pattern(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    regex = _regex(s["pattern"], f"{where}/pattern")

    def check(value: Any, path: str) -> Iterator[str]:
        if isinstance(value, str) and not regex.search(value):
            yield _at(path, f"must match pattern {_quote(regex.pattern)}")

    return check


def _k_required(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    names = s["required"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SchemaError(f"{where}/required must be an array of strings")

    def check(value: Any, path: str) -> Iterator[str]:
        obj = _as_object(value)
        for name in names if obj is not None else ():
            if name not in obj:
                yield _at(path, f"missing required property {_quote(name)}")

    return check


def _k_properties(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    schemas = c.schema_map(s["properties"], f"{where}/properties")

    def check(value: Any, path: str) -> Iterator[str]:
        obj = _as_object(value) or {}
        for name, node in schemas.items():
            if name in obj:
                yield from node.errors(obj[name], _child(path, name))

    return check


def _pattern_schemas(
    c: _Compiler, s: dict[str, Any], where: str
) -> list[tuple[re.Pattern[str], _Node]]:
    mapping = _as_object(s.get("patternProperties", {}))
    if mapping is None:
        raise SchemaError(f"{where}/patternProperties must be an object of schemas")
    base = f"{where}/patternProperties"
    return [
        (_regex(p, _child(base, p)), c.subschema(sub, _child(base, p)))
        for p, sub in mapping.items()
    ]


def _k_pattern_properties(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    schemas = _pattern_schemas(c, s, where)

    def check(value: Any, path: str) -> Iterator[str]:
        for name, item in (_as_object(value) or {}).items():
            for regex, node in schemas:
                if regex.search(name):
                    yield from node.errors(item, _child(path, name))

    return check


def _k_additional_properties(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    forbidden = s["additionalProperties"] is False
    node = c.subschema(s["additionalProperties"], f"{where}/additionalProperties")
    known = set(_as_object(s.get("properties", {})) or {})
    patterns = [regex for regex, _ in _pattern_schemas(c, s, where)]

    def is_additional(name: str) -> bool:
        return name not in known and not any(regex.search(name) for regex in patterns)

    def check(value: Any, path: str) -> Iterator[str]:
        for name, item in (_as_object(value) or {}).items():
            if not is_additional(name):
                continue
            if forbidden:
                yield _at(path, f"additional property {_quote(name)} is not allowed")
            else:
                yield from node.errors(item, _child(path, name))

    return check


def _k_property_names(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    node = c.subschema(s["propertyNames"], f"{where}/propertyNames")

    def check(value: Any, path: str) -> Iterator[str]:
        for name in _as_object(value) or {}:
            for message in node.errors(name, ""):
                yield _at(path, f"invalid property name {_quote(name)}: {message}")

    return check


def _k_items(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    """items / prefixItems / additionalItems together.

    2020-12: `prefixItems` are positional and `items` covers the rest. Draft-07: an array
    `items` is positional and `additionalItems` covers the rest. Otherwise `items` covers all.
    """
    positional: list[_Node] = []
    rest_keyword = "items"
    if "prefixItems" in s:
        positional = c.schema_list(s["prefixItems"], f"{where}/prefixItems")
    elif isinstance(s.get("items"), list) and s["items"]:
        positional = c.schema_list(s["items"], f"{where}/items")
        rest_keyword = "additionalItems"
    rest_schema = s.get(rest_keyword)
    rest = None
    if rest_schema is not None:
        rest = c.subschema(rest_schema, f"{where}/{rest_keyword}")

    def check(value: Any, path: str) -> Iterator[str]:
        if not isinstance(value, list):
            return
        for index, item in enumerate(value):
            node = positional[index] if index < len(positional) else rest
            if node is not None:
                yield from node.errors(item, _child(path, index))

    return check


def _k_contains(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    node = c.subschema(s["contains"], f"{where}/contains")

    def check(value: Any, path: str) -> Iterator[str]:
        if isinstance(value, list) and not any(node.accepts(item) for item in value):
            yield _at(path, "must contain at least one matching item")

    return check


def _k_unique_items(c: _Compiler, s: dict[str, Any], where: str) -> Check | None:
    if s["uniqueItems"] is not True:
        return None

    def check(value: Any, path: str) -> Iterator[str]:
        if isinstance(value, list):
            keys = [_canonical(item) for item in value]
            if len(set(keys)) != len(keys):
                yield _at(path, "items must be unique")

    return check


def _k_all_of(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    nodes = c.schema_list(s["allOf"], f"{where}/allOf")

    def check(value: Any, path: str) -> Iterator[str]:
        for node in nodes:
            yield from node.errors(value, path)

    return check


def _k_any_of(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    nodes = c.schema_list(s["anyOf"], f"{where}/anyOf")

    def check(value: Any, path: str) -> Iterator[str]:
        if not any(node.accepts(value) for node in nodes):
            yield _at(path, "must match at least one schema in anyOf")

    return check


def _k_one_of(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    nodes = c.schema_list(s["oneOf"], f"{where}/oneOf")

    def check(value: Any, path: str) -> Iterator[str]:
        matched = sum(1 for node in nodes if node.accepts(value))
        if matched != 1:
            yield _at(path, f"must match exactly one schema in oneOf (matched {matched})")

    return check


def _k_not(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    node = c.subschema(s["not"], f"{where}/not")

    def check(value: Any, path: str) -> Iterator[str]:
        if node.accepts(value):
            yield _at(path, "must not match the schema in not")

    return check


def _k_if(c: _Compiler, s: dict[str, Any], where: str) -> Check:
    condition = c.subschema(s["if"], f"{where}/if")
    branches = {
        keyword: c.subschema(s[keyword], f"{where}/{keyword}")
        for keyword in ("then", "else")
        if keyword in s
    }

    def check(value: Any, path: str) -> Iterator[str]:
        branch = branches.get("then" if condition.accepts(value) else "else")
        if branch is not None:
            yield from branch.errors(value, path)

    return check


_KEYWORDS: dict[str, Builder] = {
    "$ref": _k_ref,
    "type": _k_type,
    "enum": _k_enum,
    "const": _k_const,
    "minimum": _k_minimum,
    "maximum": _k_maximum,
    "exclusiveMinimum": _k_exclusive_minimum,
    "exclusiveMaximum": _k_exclusive_maximum,
    "multipleOf": _k_multiple_of,
    "minLength": _size_limit("minLength", _string_or_none, "characters"),
    "maxLength": _size_limit("maxLength", _string_or_none, "characters"),
    "pattern": _k_pattern,
    "minItems": _size_limit("minItems", _list_or_none, "items"),
    "maxItems": _size_limit("maxItems", _list_or_none, "items"),
    "uniqueItems": _k_unique_items,
    "prefixItems": _k_items,
    "items": _k_items,
    "contains": _k_contains,
    "required": _k_required,
    "properties": _k_properties,
    "patternProperties": _k_pattern_properties,
    "additionalProperties": _k_additional_properties,
    "propertyNames": _k_property_names,
    "minProperties": _size_limit("minProperties", _as_object, "properties"),
    "maxProperties": _size_limit("maxProperties", _as_object, "properties"),
    "allOf": _k_all_of,
    "anyOf": _k_any_of,
    "oneOf": _k_one_of,
    "not": _k_not,
    "if": _k_if,
}
"""Supported keywords. Others (format, title, $schema, definitions, ...) are ignored."""


@functools.lru_cache(maxsize=256)
def _compiled(schema_text: str) -> _Node:
    """Compile a schema once per distinct text (the spec's "cached by content")."""
    try:
        root = decode(schema_text)
    except errors.ActorError as exc:
        raise errors.invalid(f"invalid schema: {exc.error.message}") from None
    try:
        return _Compiler(root).compile(root, "#")
    except SchemaError as exc:
        raise errors.invalid(f"invalid schema: {exc}") from None


def _schema_text(schema: Any) -> str:
    """The cache key: JSON text as given, or the canonical encoding of a table schema."""
    if isinstance(schema, str | bytes | bytearray):
        return to_text(schema)
    if not isinstance(schema, dict | list | bool):
        kind = type(schema).__name__
        raise errors.invalid(f"schema must be a table or a JSON string, got {kind}")
    try:
        return encode(schema)
    except errors.ActorError as exc:
        raise errors.invalid(f"invalid schema: {exc.error.message}") from None


def compile_schema(schema: Any) -> Callable[[Any], None]:
    """Compile (or fetch from the cache) a schema; the result validates a decoded value."""
    return functools.partial(_check_instance, _compiled(_schema_text(schema)))


def _check_instance(node: _Node, instance: Any) -> None:
    try:
        found = list(itertools.islice(node.errors(instance, ""), _MAX_REPORTED + 1))
    except RecursionError:
        raise errors.invalid("validation failed: schema recursion too deep") from None
    if not found:
        return
    more = " (and more)" if len(found) > _MAX_REPORTED else ""
    raise errors.invalid("validation failed: " + "; ".join(found[:_MAX_REPORTED]) + more)


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
        instance = decode(encode(value))
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
