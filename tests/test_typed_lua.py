"""Tests for the type-erasing preprocessor of the typed Lua dialect (spec section 18)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lupa.lua54 import LuaRuntime, lua_type

from lua_bindings.typed_lua import _lex, erase_types, tokenize

# -- helpers -------------------------------------------------------------------------------

# Run-time shims of rule 8, reduced to what the tests need (the real ones live elsewhere).
_SHIMS = """
setmetatable(string, {__call = function(_, v) assert(type(v) == "string"); return v end})
"""


def new_lua() -> Any:
    lua = LuaRuntime()
    lua.execute(_SHIMS)
    return lua


def compile_lua(source: str, lua: Any = None) -> Any:
    """Compile ``source`` with stock Lua 5.4 and return the chunk; fail with Lua's message."""
    lua = lua or new_lua()
    result = lua.execute("return load(...)", source)
    if lua_type(result) != "function":
        pytest.fail(f"does not compile: {result!r}\n--- source ---\n{source}")
    return result


def run_lua(source: str) -> Any:
    return compile_lua(source)()


def blank(text: str) -> str:
    """What the eraser turns ``text`` into (when it erases all of it)."""
    return re.sub(r"[^\r\n]", " ", text)


def assert_layout_kept(source: str, erased: str) -> None:
    assert len(erased) == len(source)
    for a, b in zip(source, erased, strict=True):
        assert a == b or (b == " " and a not in "\r\n")


def check(source: str, expected: str) -> str:
    """Erase ``source``, compare with ``expected``, check the layout and that it compiles."""
    erased = erase_types(source)
    assert erased == expected
    assert_layout_kept(source, erased)
    compile_lua(erased)
    return erased


# -- section 18.1, rows 1-14 ---------------------------------------------------------------


def test_row01_alias_to_qualified_type() -> None:
    src = "type Message = process.Message\nlocal x = 1\nreturn x\n"
    assert check(src, blank("type Message = process.Message") + "\nlocal x = 1\nreturn x\n")
    assert run_lua(erase_types(src)) == 1


def test_row02_alias_to_generic_instantiation() -> None:
    src = "type MessageChannel = Channel<Message>\nreturn 2\n"
    check(src, blank("type MessageChannel = Channel<Message>") + "\nreturn 2\n")


def test_row02_nested_generics_split_shift_operator() -> None:
    # '>>' closes two argument lists.
    src = "type M = Map<string, Map<string, {number}>>\nreturn 3\n"
    check(src, blank("type M = Map<string, Map<string, {number}>>") + "\nreturn 3\n")


def test_row03_typed_parameters_with_optional() -> None:
    src = (
        "local function wait_for_exit(events_ch: EventChannel, pid: string, timeout: string?)\n"
        "  return pid .. (timeout or '-')\n"
        "end\n"
        "return wait_for_exit(nil, 'p', nil)\n"
    )
    expected = (
        "local function wait_for_exit(events_ch              , pid        , timeout         )\n"
        "  return pid .. (timeout or '-')\n"
        "end\n"
        "return wait_for_exit(nil, 'p', nil)\n"
    )
    check(src, expected)
    assert run_lua(expected) == "p-"


def test_row04_parameter_with_inline_record_type() -> None:
    src = (
        "local function main(input: {message: string?})\n"
        "  return input.message\nend\nreturn main({message = 'hi'})\n"
    )
    expected = src.replace(": {message: string?}", blank(": {message: string?}"))
    check(src, expected)
    assert run_lua(expected) == "hi"


def test_row05_parameter_with_array_type() -> None:
    src = "function run(tests: {any})\n  return #tests\nend\nreturn run({1, 2, 3})\n"
    expected = src.replace(": {any}", "       ")
    check(src, expected)
    assert run_lua(expected) == 3


def test_row06_return_type_annotation() -> None:
    src = (
        "local function payload_data(msg: Message): any?\n"
        "  return msg.data\nend\nreturn payload_data({data = 7})\n"
    )
    expected = (
        "local function payload_data(msg         )      \n"
        "  return msg.data\nend\nreturn payload_data({data = 7})\n"
    )
    check(src, expected)
    assert run_lua(expected) == 7


def test_row07_typed_local_with_initializer() -> None:
    src = "local started_pid: string? = nil\nreturn started_pid\n"
    check(src, "local started_pid          = nil\nreturn started_pid\n")


def test_row08_map_and_postfix_array_types() -> None:
    src = (
        "local suites: {[string]: any[]} = {}\n"
        "local no_suite: any[] = {}\n"
        "suites.x = no_suite\n"
        "return suites.x == no_suite\n"
    )
    expected = (
        "local suites                    = {}\n"
        "local no_suite        = {}\n"
        "suites.x = no_suite\n"
        "return suites.x == no_suite\n"
    )
    check(src, expected)
    assert run_lua(expected) is True


def test_row09_as_cast() -> None:
    src = (
        "local result = {value = 5}\n"
        "local event = result.value as Event\n"
        "local process = {inbox = function() return 'ch' end}\n"
        "local ch = process.inbox() as MessageChannel\n"
        "return event, ch\n"
    )
    expected = (
        "local result = {value = 5}\n"
        "local event = result.value         \n"
        "local process = {inbox = function() return 'ch' end}\n"
        "local ch = process.inbox()                  \n"
        "return event, ch\n"
    )
    check(src, expected)
    assert tuple(run_lua(expected)) == (5, "ch")


def test_row10_double_colon_cast() -> None:
    src = (
        "local msg = {from = function() return 'me' end,\n"
        "  payload = function(self) return {data = function() return 'd' end} end}\n"
        "local from = msg:from() :: string\n"
        "local data = msg:payload():data() :: string\n"
        "return from .. data\n"
    )
    expected = src.replace(" :: string", " " * len(" :: string"))
    check(src, expected)
    assert run_lua(expected) == "med"


def test_row11_nested_and_parenthesised_casts() -> None:
    src = (
        "local uuid = {validate = function(v) return v end}\n"
        "local a = uuid.validate((123 :: any) :: string)\n"
        "local b = (nil :: any) :: string\n"
        "local c = ({} :: any) :: string\n"
        "return a, b, type(c)\n"
    )
    expected = (
        "local uuid = {validate = function(v) return v end}\n"
        "local a = uuid.validate((123       )          )\n"
        "local b = (nil       )          \n"
        "local c = ({}       )          \n"
        "return a, b, type(c)\n"
    )
    check(src, expected)
    assert tuple(run_lua(expected)) == (123, None, "table")


def test_row12_call_cast_is_plain_lua() -> None:
    src = (
        "local msg = {from = function() return 'pid' end}\n"
        "local sender = string(msg:from())\nreturn sender\n"
    )
    assert erase_types(src) is src
    assert run_lua(src) == "pid"


def test_row13_multiline_record_alias_with_optional_fields() -> None:
    alias = (
        "type SignInput = {\n"
        "    uri?: string,\n"
        "    headers: {[string]: string},\n"
        "    body?: string\n"
        "}"
    )
    src = alias + "\nlocal n = 1\nreturn n\n"
    erased = check(src, blank(alias) + "\nlocal n = 1\nreturn n\n")
    assert erased.count("\n") == src.count("\n")
    assert run_lua(erased) == 1


def test_row14_cast_of_parenthesised_table_constructor() -> None:
    src = "local function f()\n  return ({ok = true, n = 2} as SignResult)\nend\nreturn f().n\n"
    expected = src.replace(" as SignResult", " " * len(" as SignResult"))
    check(src, expected)
    assert run_lua(expected) == 2


# -- more of rules 2-7 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        # rule 2: generic aliases, also with '>=' split into '>' and '='
        "type Pair<K, V> = {first: K, second: V}",
        "type Box<T>= {value: T}",
        "type Fn<T: Foo<U>, U = string> = (T) -> U",
        "type U = 'a' | 'b' | 42 | true | nil",
        "type I = A & B",
        "type L = | A | B",
        "type F = fun(x: number, y: string?): boolean",
        "type G = (number, string) -> (boolean, string?)",
        "type R = readonly {x: number}",
        "type K = keyof(Point)",
        "type V = typeof(some.value)",
        "type W = Point['x']",
        "type A = {x: number @min(0), y: string @tag}",
        "type Q = ...string",
        "type M = {\n  [string]: {any},\n  n?: number\n}",
        # rule 2: interfaces
        "interface Shape\n  area: (self) -> number\n  name?: string\nend",
        "interface Named<T> : Base, Other\n  readonly name: T;\n  [string]: any,\nend",
        "interface Greeter\n  greet(self, who: string): string\n"
        "  function hello(x: number): nil\nend",
    ],
)
def test_declarations_are_deleted(typed: str) -> None:
    src = f"local x = 1\n{typed}\nreturn x\n"
    out = erase_types(src)
    assert out == f"local x = 1\n{blank(typed)}\nreturn x\n"
    assert_layout_kept(src, out)
    assert run_lua(out) == 1


def test_declaration_comments_are_kept() -> None:
    src = "type M = {\n  n: number, -- count\n}\nreturn 1\n"
    assert erase_types(src) == "          \n             -- count\n \nreturn 1\n"


@pytest.mark.parametrize(
    ("src", "expected_value"),
    [
        ("local a: number, b: string, c = 1, 'b', 3\nreturn a + c", 4),
        ("local x <const>: number = 5\nreturn x", 5),
        ("local x: number\nx = 4\nreturn x", 4),
        ("local f: fun(x: number): number = function(x) return x end\nreturn f(3)", 3),
        ("local g: (number) -> number = function(x) return x end\nreturn g(6)", 6),
        ("local t: Map<string, {number}> = {}\nreturn #t", 0),
        ("local u: string | number | nil = 1\nreturn u", 1),
        ("local lit: 'a' | 'b' = 'a'\nreturn lit", "a"),
        ("local idx: Point['x'] = 9\nreturn idx", 9),
        ("local n: number? -- comment\n= 2\nreturn n", 2),
    ],
)
def test_local_annotations(src: str, expected_value: Any) -> None:
    erased = erase_types(src)
    assert ":" not in erased.split("--")[0]
    assert_layout_kept(src, erased)
    assert run_lua(erased) == expected_value


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        (
            "local function id<T>(x: T): T return x end",
            "local function id   (x   )    return x end",
        ),
        (
            "local function f<T, U: Foo<T>>(x: T, ...: U): (T, U) -> boolean return x end",
            "local function f              (x   , ...   )                    return x end",
        ),
        (
            "function M.a.b:c(self2: M, y: number?): string, number? return 'x', 1 end",
            "function M.a.b:c(self2   , y         )                  return 'x', 1 end",
        ),
        (
            "local h = function<T>(cb: (T) -> nil, ...: any): nil end",
            "local h = function   (cb            , ...     )      end",
        ),
        (
            "local k = function(a: {[string]: number}): {string} return {} end",
            "local k = function(a                    )           return {} end",
        ),
        (
            "function g(): (number, string)\n  return 1, 's'\nend",
            "function g()                  \n  return 1, 's'\nend",
        ),
        (
            "local function v(...: string): ...string return ... end",
            "local function v(...        )            return ... end",
        ),
        # return annotation directly followed by a body starting with a name or '('
        (
            "local function w(): number\n  x = 1\n  return x\nend",
            "local function w()        \n  x = 1\n  return x\nend",
        ),
        (
            "local function p(f): nil\n  (f)()\nend",
            "local function p(f)     \n  (f)()\nend",
        ),
    ],
)
def test_function_headers(src: str, expected: str) -> None:
    check(src, expected)


def test_goto_label_at_start_of_body_after_return_annotation() -> None:
    src = (
        "local function f(n: number): number\n  ::top::\n"
        "  if n > 0 then n = n - 1 goto top end\n  return n\nend\nreturn f(3)"
    )
    erased = erase_types(src)
    assert erased.startswith("local function f(n        )        \n  ::top::\n")
    assert run_lua(erased) == 0


def test_method_definitions_and_calls_untouched() -> None:
    src = "local obj = {}\nfunction obj:m(x) return x end\nreturn obj:m(4), obj.m(obj, 5)\n"
    assert erase_types(src) is src


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("return x! + 1", "return x  + 1"),
        ("return t.a!.b!", "return t.a .b "),
        ("return f()!", "return f() "),
        ("return (t :: any)!.b", "return (t       ) .b"),
        ("return t[1]! :: number", "return t[1]           "),
        ("return x! as number", "return x           "),
    ],
)
def test_non_nil_assertion(src: str, expected: str) -> None:
    assert erase_types(src) == expected


def test_bang_equals_is_left_for_the_compiler() -> None:
    assert erase_types("return a != b") == "return a != b"


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("return x as {string}", "return x            "),
        ("return x :: {[string]: number}[]", "return x                        "),
        ("return (x as Foo<Bar<T>>).y", "return (x               ).y"),
        ("return x :: number + 1", "return x           + 1"),
        ("return x :: string .. 'a'", "return x           .. 'a'"),
        ("return x :: number == 2", "return x           == 2"),
        ("return x :: number < 2", "return x           < 2"),
        ("return x :: number >= 2", "return x           >= 2"),
        ("return a :: A, b as B", "return a     , b     "),
        ("return x :: A | B? & C, 1", "return x              , 1"),
        ("return 'lit' :: string", "return 'lit'          "),
        ("return ... :: string", "return ...          "),
        ("return {} as T or nil", "return {}      or nil"),
        ("return f(x as T)(y)", "return f(x     )(y)"),
        ("local a = b as T\n(f)()", "local a = b     \n(f)()"),
        ("local a = b :: T\nc()", "local a = b     \nc()"),
    ],
)
def test_casts(src: str, expected: str) -> None:
    assert erase_types(src) == expected


# -- contextual words, labels, strings and comments ---------------------------------------------

UNTOUCHED = [
    "return t.type",
    "return {type = 'object', as = 1, interface = 2}",
    "return obj:is(x)",
    "return type(x)",
    "return type(x) == 'table'",
    "return obj:as(x)",
    "return obj.as, obj.as.type",
    "local type = 1\nreturn type",
    "local as = 2\nreturn as + as",
    "local interface = 3\nreturn interface",
    "x = interface\nfoo = 1",
    "x = interface\nfoo:bar()",
    "x = interface\nfoo.y = 1",
    "f()\nas = 1",
    "f()\nas.x = 1",
    "f()\nas[1] = 1",
    "type = 5",
    "type.x = 5",
    "function type(x) return x end",
    "local function as(x) return x end",
    "for type, as in pairs(t) do end",
    "goto type\n::type::",
    "t.type = 'x' ; t.interface = 'y'",
    "local fun, readonly, typeof, keyof, extends, asserts, is = 1, 2, 3, 4, 5, 6, 7",
    "return a > b, a >= b, a >> b, a < b, a <= b, a << b, a // b, a ~= b, ~a, a ~ b",
    "local t <close> = nil\nlocal c <const> = 1",
]


@pytest.mark.parametrize("src", UNTOUCHED)
def test_contextual_words_stay_identifiers(src: str) -> None:
    assert erase_types(src) is src


def test_type_builtin_call_runs() -> None:
    src = "local t = {type = 'object'}\nreturn type(t), t.type"
    assert erase_types(src) is src
    assert tuple(run_lua(src)) == ("table", "object")


def test_spec_corner_bare_type_then_assignment_reads_as_alias() -> None:
    # Section 18.2 rule 2 accepts this misreading to match the reference grammar.
    assert erase_types("x = type\nfoo = 1") == "x =     \n       "


@pytest.mark.parametrize(
    "src",
    [
        "::continue::",
        "goto continue\n::continue::",
        "x = y ::lbl::",
        "x = f() ::lbl:: goto lbl",
        "for i = 1, 3 do\n  if i == 2 then goto continue end\n  ::continue::\nend",
        "do goto done end ::done::",
        "local function f() ::top:: end",
    ],
)
def test_goto_labels_untouched(src: str) -> None:
    assert erase_types(src) is src
    compile_lua(src)


@pytest.mark.parametrize(
    "src",
    [
        "--[[ local x: number = 1 ]]",
        "--[==[ type X = Y\n x :: string ]] ]=] ]==]",
        "-- local x: number = y :: string as T!",
        "local s = [[ type X = Y ]]",
        "local s = [==[\nlocal x: number = y :: string\n]] ]=] ]==]",
        "local s = 'a :: b'",
        'local s = "x as T"',
        "local s = \"type X = Y\" .. 'interface I end'",
        'local s = "esc \\" :: T" .. "\\\\" .. "!"',
        "local s = 'line\\\nx :: T'",
        "local s = 'z\\z\n   :: T'",
        "local s = [=[ ]] :: T ]=]",
        "return --[[ :: T ]] x",
    ],
)
def test_strings_and_comments_untouched(src: str) -> None:
    assert erase_types(src) is src
    compile_lua(src)


def test_annotations_next_to_strings_and_comments() -> None:
    src = "local s: string = 'a :: b' :: string -- x :: y\nreturn s"
    assert erase_types(src) == "local s         = 'a :: b'           -- x :: y\nreturn s"
    src = "local t = [[ as ]] as string --[[ as ]]"
    assert erase_types(src) == "local t = [[ as ]]           --[[ as ]]"


# -- layout --------------------------------------------------------------------------------------

TYPED_PROGRAM = """\
type Point = {x: number, y: number}
type Shape = {
    kind: "circle" | "square",
    size?: number,
}

local function area(s: Shape): number
    if s.kind == "circle" then
        return 3 * (s.size :: number) ^ 2
    end
    local side: number = s.size or 1
    return side * side
end

local shapes: {Shape} = {
    {kind = "circle", size = 1} as Shape,
    {kind = "square", size = 2} :: Shape,
}
local total: number = 0
for _, s in ipairs(shapes) do
    total = total + area(s)!
end
local boom = function(msg: string): nil
    error(msg)
end
return total, boom
"""


def test_line_and_column_numbers_are_kept() -> None:
    erased = erase_types(TYPED_PROGRAM)
    # Every kept character is at its original offset, hence on its original line and column.
    assert_layout_kept(TYPED_PROGRAM, erased)
    assert erased.count("\n") == TYPED_PROGRAM.count("\n")
    lua = new_lua()
    total, boom = compile_lua(erased, lua)()
    assert total == 7
    err = lua.execute("local f = ...; local ok, e = pcall(f, 'bad'); return e", boom)
    line = TYPED_PROGRAM.splitlines().index("    error(msg)") + 1
    assert f":{line}: bad" in err


def test_runtime_error_line_after_multiline_alias() -> None:
    src = "type T = {\n  a: number,\n  b: string,\n}\nlocal x: T = {} :: T\nerror('boom')\n"
    erased = erase_types(src)
    lua = new_lua()
    err = lua.execute("local ok, e = pcall(load(...)); return e", erased)
    assert ":6: boom" in err


def test_crlf_line_endings() -> None:
    src = "type A = {\r\n  x: number\r\n}\r\nlocal a: A = {x = 1}\r\nreturn a.x :: number\r\n"
    erased = erase_types(src)
    assert_layout_kept(src, erased)
    assert erased.count("\r\n") == 5
    assert run_lua(erased) == 1


def test_tabs_between_erased_tokens_are_kept() -> None:
    assert erase_types("local x:\tnumber = 1") == "local x \t       = 1"


def test_long_string_literal_type_keeps_newlines() -> None:
    src = "type S = [[a\nb]]\nreturn 1"
    assert erase_types(src) == "            \n   \nreturn 1"


# -- malformed input is left alone -----------------------------------------------------------------


@pytest.mark.parametrize(
    "src",
    [
        "local x: = 1",
        "local function f(x: ) end",
        "local function f(a b) end",
        "function f<T(x) end",
        "return x ::",
        "return x as",
        "type X =",
        "type X<T = {}",
        "interface I\n  x: number\n",  # no 'end'
        "local y: {a: number = 1",  # unbalanced
        "local s = 'unterminated\nreturn 1",
        "local s = [[ unterminated",
        "--[[ unterminated comment",
        "return 'trailing backslash \\",
    ],
)
def test_malformed_input_is_left_as_is(src: str) -> None:
    erased = erase_types(src)
    assert_layout_kept(src, erased)
    assert erased == src


def test_malformed_input_is_reported_by_lua_on_the_right_line() -> None:
    src = "local a: number = 1\nlocal b: = 2\n"
    erased = erase_types(src)
    lua = new_lua()
    _, msg = lua.execute("return load(...)", erased)
    assert ":2:" in msg


# -- tokenizer -----------------------------------------------------------------------------


def test_tokenizer() -> None:
    src = (
        "a.b:c(...) .. x :: y ::lbl:: 0x1F 1e-3 0x1p+4 .5 3. a>=b a>>b a->b @x ?!\n"
        "[==[ long ]] ]==] --[[ comment ]] 'q\\'s' \"d\\\"s\" -- trailing"
    )
    assert tokenize(src) == [
        "a", ".", "b", ":", "c", "(", "...", ")", "..", "x", "::", "y", "::", "lbl", "::",
        "0x1F", "1e-3", "0x1p+4", ".5", "3.", "a", ">", "=", "b", "a", ">", ">", "b",
        "a", "->", "b", "@", "x", "?", "!",
        "[==[ long ]] ]==]", "'q\\'s'", '"d\\"s"',
    ]  # fmt: skip


# -- realistic untyped programs come out byte-identical ---------------------------------------

UNTYPED_PROGRAMS = [
    # a process entry
    """\
local json = require("json")
local time = require("time")

local M = {}
M.__index = M

function M.new(name, opts)
    local self = setmetatable({}, M)
    self.name = name
    self.opts = opts or {}
    self.count = 0
    return self
end

function M:handle(msg)
    local topic = msg:topic()
    if topic == "stop" then
        return false
    elseif topic ~= "ping" then
        self.count = self.count + 1
    end
    local payload = msg:payload():data()
    return true, payload, #self.opts
end

local function main(input)
    local inbox = process.inbox()
    local events = process.events()
    while true do
        local r = channel.select({inbox:case_receive(), events:case_receive()})
        if not r.ok then break end
        if r.channel == events and r.value.kind == process.event.CANCEL then
            return 0
        end
    end
    return { status = "ok", type = "object", items = {1, 2, 3}, ["k-1"] = true }
end

return { main = main, M = M }
""",
    # numeric code, goto, varargs, bit operations, long strings
    """\
local function sum(...)
    local total = 0
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        if type(v) ~= "number" then goto continue end
        total = total + v
        ::continue::
    end
    return total
end

local mask = 0xFF & ~0x0F | (1 << 4) ~ (256 >> 2)
local big, small, flt = 0x7fffffffffffffff, -1e-10, 3.14e+2
local q, r = 7 // 2, 7 % 2
local s = [==[
  a long string with ]] and [=[ inside, type X = Y, x :: T
]==] .. "esc\\"aped" .. 'it\\'s' .. "\\z
      continued"
--[[ a long comment
     local x: number = 1 ]]
do
    local t <const> = 10
    local f <close> = nil
    print(sum(1, 2, "x", 3), mask, big, small, flt, q, r, #s, t, f)
end
return a and b or c, not d, -e, x >= y, x <= y, x > y, x < y, x == y
""",
    # closures, method chains, table-heavy code with contextual names
    """\
local schema = {
    type = "object",
    properties = { name = { type = "string" }, as = { type = "number" } },
    interface = true,
}
local function validate(obj, sch)
    if type(obj) ~= sch.type and not (sch.type == "object" and type(obj) == "table") then
        return nil, errors.new({ kind = errors.INVALID, message = "bad " .. sch.type })
    end
    for k, sub in pairs(sch.properties or {}) do
        local ok, err = validate(obj[k], sub)
        if not ok then return nil, err end
    end
    return obj
end
local builder = process.with_options({ trap_links = true }):with_context({ a = 1 })
local pid = builder:spawn_monitored("app:worker", "app:host", "arg")
local ok = pcall(function() return string.format("%s %d", tostring(pid), 3) end)
local obj = { is = function(self, x) return x end, as = function(self, x) return x end }
return obj:is(1), obj:as(2), obj.as, validate({ name = "n" }, schema), ok
""",
]


@pytest.mark.parametrize("src", UNTYPED_PROGRAMS)
def test_realistic_untyped_programs_are_identical(src: str) -> None:
    assert erase_types(src) is src
    compile_lua(src)
    crlf = src.replace("\n", "\r\n")
    assert erase_types(crlf) is crlf


def test_performance_on_a_large_source() -> None:
    src = (TYPED_PROGRAM.replace("return total, boom\n", "") + UNTYPED_PROGRAMS[1]) * 60
    assert src.count("\n") > 3000
    erase_types(src)
    start = time.perf_counter()
    erase_types(src)
    assert time.perf_counter() - start < 0.25  # typically ~15 ms; generous for slow CI


# -- property tests ------------------------------------------------------------------------------

_NAMES = st.sampled_from(
    ["x", "y", "foo", "bar_1", "Tbl", "interface", "is", "fun", "readonly", "typeof", "keyof",
     "extends", "asserts"]
)  # fmt: skip
# A bare `interface` (or `type`) ending a statement, followed by a line that reads as its body,
# is a declaration by rule 2 (test_spec_corner_bare_type_then_assignment_reads_as_alias):
# untyped programs use those words as names everywhere but at the end of an expression.
_EXPR_NAMES = _NAMES.filter(lambda name: name != "interface")
_FIELDS = st.sampled_from(["type", "as", "interface", "is", "value", "fun"])
_SEP = st.sampled_from([" ", "  ", "\n", "\t", " -- c :: T as U\n", " --[[ type X = Y ]] ", "\r\n"])
_NUMBERS = st.sampled_from(["1", "0", "42", "0x1F", "0xA.8p1", "1e-3", "3.14", ".5", "7E+2"])
_STRINGS = st.sampled_from(
    ["'a :: b'", '"x as T"', "'esc\\'aped'", '"q\\"q"', "[[ type X = Y ]]",
     "[==[ ]] local x: number ]==]", "''", '"\\z\n  :: T"', "'!'"]
)  # fmt: skip
_BINOPS = st.sampled_from(
    ["+", "-", "*", "/", "//", "%", "^", "..", "==", "~=", "<", "<=", ">", ">=", "and", "or",
     "&", "|", "~", "<<", ">>"]
)  # fmt: skip
_UNOPS = st.sampled_from(["-", "not", "#", "~"])


def _expressions() -> st.SearchStrategy[str]:
    atoms = st.one_of(
        _NUMBERS,
        _STRINGS,
        st.sampled_from(["nil", "true", "false", "as", "type(x)", "obj:is(y)", "obj:as(y)"]),
        _EXPR_NAMES,
        st.builds(lambda n, f: f"{n}.{f}", _NAMES, _FIELDS),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(lambda a, op, b: f"{a} {op} {b}", inner, _BINOPS, inner),
            st.builds(lambda op, a: f"{op} {a}", _UNOPS, inner),
            st.builds(lambda a: f"({a})", inner),
            st.builds(lambda a, f: f"({a}).{f}", inner, _FIELDS),
            st.builds(lambda n, a: f"{n}[ {a} ]", _NAMES, inner),
            st.builds(lambda n, a, b: f"{n}({a}, {b})", _NAMES, inner, inner),
            st.builds(lambda n, m, a: f"{n}:{m}({a})", _NAMES, _FIELDS, inner),
            st.builds(lambda f, a: f"{{{f} = {a}, [ {a} ] = 1, {a}}}", _FIELDS, inner),
            st.builds(lambda a: f"function(p, ...) return {a} end", inner),
        )

    return st.recursive(atoms, extend, max_leaves=6)


_EXPR = _expressions()


def _statements() -> st.SearchStrategy[str]:
    simple = st.one_of(
        st.builds(lambda n, e: f"local {n} = {e}", _NAMES, _EXPR),
        st.builds(lambda n, e: f"local {n} <const> = {e}", _NAMES, _EXPR),
        st.builds(lambda n, e: f"{n} = {e}", _NAMES, _EXPR),
        st.builds(lambda e: f"as = {e}", _EXPR),
        st.builds(lambda n, f, e: f"{n}.{f} = {e}", _NAMES, _FIELDS, _EXPR),
        st.builds(lambda n, e: f"{n}({e})", _NAMES, _EXPR),
        st.builds(lambda n, m, e: f"{n}:{m}({e})", _NAMES, _FIELDS, _EXPR),
        st.builds(lambda e: f"print(type({e}))", _EXPR),
        st.just("do goto skip ::skip:: end"),
        st.just(";"),
    )

    def block(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        body = st.lists(inner, min_size=0, max_size=3).map(lambda xs: "\n".join(xs))
        return st.one_of(
            st.builds(lambda e, b: f"if {e} then {b} else {b} end", _EXPR, body),
            st.builds(lambda e, b: f"while {e} do {b} end", _EXPR, body),
            st.builds(lambda e, b: f"for i = 1, {e} do {b} end", _EXPR, body),
            st.builds(lambda b: f"for k, v in pairs(t) do {b} end", body),
            st.builds(lambda b, e: f"repeat {b} until {e}", body, _EXPR),
            st.builds(
                lambda n, b, e: f"local function {n}(a, b) {b} return {e} end", _NAMES, body, _EXPR
            ),
            st.builds(lambda n, f, b: f"function {n}.{f}:m(...) {b} end", _NAMES, _FIELDS, body),
        )

    return st.recursive(simple, block, max_leaves=8)


_STATEMENTS = _statements()


@st.composite
def untyped_programs(draw: st.DrawFn) -> str:
    stmts = draw(st.lists(_STATEMENTS, min_size=1, max_size=8))
    out = []
    for s in stmts:
        out.append(s)
        out.append(draw(_SEP))
    return "".join(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(untyped_programs())
def test_untyped_programs_are_returned_unchanged(src: str) -> None:
    assert erase_types(src) == src


# Typed programs built together with their expected erasure: each piece is (typed, erased).
_TYPES = st.recursive(
    st.sampled_from(["string", "number", "any", "process.Message", "'lit'", "nil", "boolean"]),
    lambda inner: st.one_of(
        inner.map(lambda t: f"{t}?"),
        inner.map(lambda t: f"{{{t}}}"),
        inner.map(lambda t: f"{t}[]"),
        st.builds(lambda k, v: f"{{[{k}]: {v}}}", inner, inner),
        st.builds(lambda a, b: f"{{name: {a}, other?: {b}}}", inner, inner),
        st.builds(lambda a, b: f"{a} | {b}", inner, inner),
        st.builds(lambda a, b: f"Map<{a}, {b}>", inner, inner),
        st.builds(lambda a, b: f"({a}, {b}) -> {a}", inner, inner),
        st.builds(lambda a, b: f"fun(x: {a}): {b}", inner, inner),
    ),
    max_leaves=5,
)


def _ann(prefix: str) -> st.SearchStrategy[tuple[str, str]]:
    return _TYPES.map(lambda t: (f"{prefix}{t}", blank(f"{prefix}{t}")))


def _opt_ann(prefix: str) -> st.SearchStrategy[tuple[str, str]]:
    return st.one_of(st.just(("", "")), _ann(prefix))


_VALUES = st.sampled_from(["1", "'s'", "nil", "{}", "f(2)", "t.type", "obj:as(3)", "(4)"])


def _cast_expr() -> st.SearchStrategy[tuple[str, str]]:
    def build(v: str, ann: tuple[str, str]) -> tuple[str, str]:
        return f"({v}{ann[0]})", f"({v}{ann[1]})"

    return st.builds(build, _VALUES, st.one_of(_ann(" :: "), _ann(" as "), st.just(("!", " "))))


def _join(*parts: tuple[str, str] | str) -> tuple[str, str]:
    typed = "".join(p if isinstance(p, str) else p[0] for p in parts)
    erased = "".join(p if isinstance(p, str) else p[1] for p in parts)
    return typed, erased


_TYPED_STATEMENTS = st.one_of(
    st.builds(
        lambda n, a, e: _join(f"local {n}", a, " = ", e), _NAMES, _opt_ann(": "), _cast_expr()
    ),
    st.builds(
        lambda a, b: _join("local p", a, ", q", b, " = 1, 2"), _opt_ann(": "), _opt_ann(": ")
    ),
    st.builds(
        lambda n, a, b, r, e: _join(
            f"local function {n}(a", a, ", ...", b, ")", r, "\n  return ", e, "\nend"
        ),
        _NAMES,
        _opt_ann(": "),
        _opt_ann(": "),
        _opt_ann(": "),
        _cast_expr(),
    ),
    st.builds(lambda t: _join((f"type Alias = {t}", blank(f"type Alias = {t}"))), _TYPES),
    st.builds(lambda e: _join("print(", e, ")"), _cast_expr()),
    _VALUES.map(lambda v: (f"x = {v}", f"x = {v}")),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_TYPED_STATEMENTS, st.sampled_from(["\n", " ", "\n\n", " -- c\n"])),
                min_size=1, max_size=6))  # fmt: skip
def test_typed_programs_erase_to_the_expected_text(
    pieces: list[tuple[tuple[str, str], str]],
) -> None:
    typed = "".join(stmt[0] + sep for stmt, sep in pieces)
    expected = "".join(stmt[1] + sep for stmt, sep in pieces)
    assert erase_types(typed) == expected
    compile_lua("local x, f, t, obj\n" + expected)


_LUAISH_PIECES = st.sampled_from(
    ["type", "as", "interface", "local", "function", "end", "::", ":", "!", "?", "@", "<", ">",
     ">=", "=", "(", ")", "{", "}", "[", "]", "[[", "]]", "[=[", "--", "'", '"', "\\", ".", "...",
     "->", "|", "&", ",", "x", "T", "1", "0x", " ", "\n", "\r", "\t"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(_LUAISH_PIECES, max_size=40).map("".join)))
def test_arbitrary_text_never_raises_and_keeps_the_layout(src: str) -> None:
    gaps, texts = _lex(src)
    assert "".join(g + t for g, t in zip(gaps, texts, strict=True)) == src
    assert_layout_kept(src, erase_types(src))
