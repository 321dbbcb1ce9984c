"""Isolation of what every process of a host shares (issue 12, item 2).

The standard libraries, the string metatable, the runtime modules and the metatables of
runtime objects (channels, messages, payloads) are shared by all processes of a host. A
process may shadow a name in its own environment, but nothing it does may change what
another process sees: each test below has a "writer" process try one route, then a
"reader" process started afterwards check that it sees the original.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.lua_harness import lua_entry, run_lua

pytestmark = pytest.mark.anyio

# Each attack: (name, Lua statement run by the writer, Lua expression the reader checks
# to be true). Attacks through the shared table itself must fail with "read-only"; plain
# assignments to a library name only change the writer's own proxy.
ATTACKS: list[tuple[str, str, str]] = [
    (
        "string metatable __index",
        'getmetatable("").__index.upper = function() return "pwned" end',
        '("abc"):upper() == "ABC" and getmetatable("").__index.upper("x") == "X"',
    ),
    (
        "string metatable replaced",
        'getmetatable("").__index = {upper = function() return "pwned" end}',
        '("abc"):upper() == "ABC"',
    ),
    (
        "string metatable rawset",
        'rawset(getmetatable("").__index, "rep", function() return "pwned" end)',
        'string.rep("a", 2) == "aa" and getmetatable("").__index.rep("b", 2) == "bb"',
    ),
    (
        "string library through its proxy",
        'getmetatable(string).__index.rep = function() return "pwned" end',
        'string.rep("a", 3) == "aaa" and ("a"):rep(2) == "aa"',
    ),
    (
        "string cast",
        'getmetatable(string).__call = function() return "pwned" end',
        'string("x") == "x"',
    ),
    (
        "table",
        'getmetatable(table).__index.concat = function() return "pwned" end',
        'table.concat({1, 2}, ",") == "1,2"',
    ),
    (
        "table (own library of the runtime)",
        "getmetatable(getmetatable(table).__index).__index.insert = nil",
        "type(table.insert) == 'function'",
    ),
    (
        "math",
        "getmetatable(math).__index.floor = function() return 42 end",
        "math.floor(2.5) == 2",
    ),
    (
        "coroutine",
        "getmetatable(coroutine).__index.wrap = nil",
        "type(coroutine.wrap) == 'function'",
    ),
    (
        "os subset",
        "getmetatable(os).__index.time = function() return -1 end",
        "os.time() > 0",
    ),
    (
        "errors",
        'getmetatable(errors).__index.INVALID = "pwned"',
        'errors.INVALID == "Invalid"',
    ),
    (
        "channel module",
        "getmetatable(channel).__index.new = nil",
        "type(channel.new) == 'function'",
    ),
    (
        "channel methods",
        "getmetatable(channel.new(1)).__index.send = nil",
        "(function() local c = channel.new(1); c:send(7); return c:receive() == 7 end)()",
    ),
    (
        "nested table of a module",
        'process.event.EXIT = "pwned"',
        'process.event.EXIT == "pid.exit"',
    ),
    (
        "nested table of a module, rawset",
        'rawset(process.registry, "LOCAL", 99)',
        "process.registry.LOCAL == 0",
    ),
    (
        "module proxy",
        "getmetatable(require('json')).__index.encode = nil",
        "require('json').encode({1}) == '[1]'",
    ),
    (
        "payload module",
        "getmetatable(payload).__index.new = nil",
        "type(payload.new) == 'function'",
    ),
    (
        "integer cast",
        "getmetatable(integer).__call = function() return -1 end",
        'integer("5") == 5',
    ),
    (
        "message methods",
        'process.send(process.pid(), "t", 1); '
        "getmetatable(process.inbox():receive()).__index.topic = nil",
        "(function() process.send(process.pid(), 'x', 1); "
        "return process.inbox():receive():topic() == 'x' end)()",
    ),
    (
        "own proxy only",
        'string.upper = function() return "pwned" end; math.pi = 3',
        'string.upper("a") == "A" and math.pi > 3.14',
    ),
]


def _writer(attack: str) -> str:
    return f"""
    return {{main = function()
      local ok, err = pcall(function() {attack} end)
      return {{ok = ok, err = tostring(err)}}
    end}}
    """


def _reader(check: str) -> str:
    return f"return {{main = function() return {check} end}}"


def _entries(kind: str) -> list[dict[str, Any]]:
    return [lua_entry(name, kind, modules=["json"]) for name in ("writer", "reader")]


MAIN_PROCESSES = """
return {main = function()
  local function run(id)
    local v, err = process.exec(id, "test:processes")
    if err then error(err) end
    return v
  end
  return {before = run("test:reader"), wrote = run("test:writer"), after = run("test:reader")}
end}
"""

MAIN_FUNCS = """
local funcs = require("funcs")
return {main = function()
  local function run(id)
    local v, err = funcs.call(id)
    if err then error(err) end
    return v
  end
  return {before = run("test:reader"), wrote = run("test:writer"), after = run("test:reader")}
end}
"""


async def _attack(tmp_path: Path, attack: str, check: str, kind: str) -> dict[str, Any]:
    main = MAIN_PROCESSES if kind == "process.lua" else MAIN_FUNCS
    event = await run_lua(
        tmp_path,
        main,
        modules=["funcs"],
        files={"writer.lua": _writer(attack), "reader.lua": _reader(check)},
        entries=_entries(kind),
    )
    assert event.error is None, event.error
    return event.value


@pytest.mark.parametrize("kind", ["process.lua", "function.lua"])
@pytest.mark.parametrize(("name", "attack", "check"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_a_process_cannot_change_what_later_processes_see(
    tmp_path: Path, name: str, attack: str, check: str, kind: str
) -> None:
    value = await _attack(tmp_path, attack, check, kind)
    assert value["before"] is True, f"{name}: the check fails even before the attack"
    assert value["after"] is True, f"{name}: the writer changed what the reader sees"
    if name != "own proxy only":
        assert value["wrote"]["ok"] is False, f"{name}: the write was accepted"
        assert "attempt to" in value["wrote"]["err"] or "read-only" in value["wrote"]["err"]


async def test_read_only_views_still_read_like_the_library(tmp_path: Path) -> None:
    event = await run_lua(
        tmp_path,
        """
        return {main = function()
          local mt = getmetatable("")
          local n = 0
          for k, v in pairs(mt.__index) do n = n + 1 end
          local Class = {}
          Class.__index = Class
          local obj = setmetatable({}, Class)
          return {
            same = getmetatable("") == getmetatable("x"),
            upper = mt.__index.upper("a"),
            keys = n,
            own = getmetatable(obj) == Class,
            utf8 = utf8 == nil,
            len = #getmetatable(table).__index == 0,
          }
        end}
        """,
    )
    assert event.error is None, event.error
    value = event.value
    assert value["same"] and value["own"] and value["utf8"] and value["len"]
    assert value["upper"] == "A"
    assert value["keys"] > 10


async def test_the_lazy_environment_survives_a_strict_globals_metatable(tmp_path: Path) -> None:
    """Globals are put in a process's environment on first use; replacing the
    environment's metatable first puts every one of them in place."""
    event = await run_lua(
        tmp_path,
        """
        setmetatable(_G, {
          __index = function(_, k) error("undefined global " .. tostring(k), 2) end,
          __newindex = function(_, k) error("cannot define global " .. tostring(k), 2) end,
        })
        return {main = function()
          local undefined = pcall(function() return not_defined_anywhere end)
          return {
            upper = string.upper("a"),
            floor = math.floor(2.5),
            n = select("#", 1, 2),
            pid = type(process.pid()),
            undefined = undefined,
          }
        end}
        """,
    )
    assert event.error is None, event.error
    assert event.value == {"upper": "A", "floor": 2, "n": 2, "pid": "string", "undefined": False}
