"""`ctx` (lua-api §8), `security` (§15) and context propagation (§7.5): values and identity
flow into spawned processes, their children, function calls, nested calls and futures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.lua_harness import lua_entry, run_lua

pytestmark = pytest.mark.anyio


def entry(name: str, kind: str, modules: list[str]) -> dict[str, Any]:
    return lua_entry(name, kind, modules=modules)


async def run(tmp_path: Path, main: str, *, modules: list[str], **app: Any) -> Any:
    event = await run_lua(tmp_path, main, modules=modules, **app)
    assert event.error is None, event.error
    return event.value


# What a process or function sees: its context values and identity.
OBSERVE = """
local ctx = require("ctx")
local security = require("security")
local function observe()
  local actor, scope = security.actor(), security.scope()
  return {
    ctx = ctx.all(),
    actor = actor and actor:id() or false,
    actor_meta = actor and actor:meta() or false,
    scope = scope and scope:policies() or false,
  }
end
"""

READER = (
    OBSERVE
    + """
local funcs = require("funcs")
-- Observe, then (optionally) call `nested` plainly, through an executor, and as a future.
return function(nested)
  local out = observe()
  if nested then
    out.nested = funcs.call(nested)
    out.nested_ex = funcs.new():with_context{inner = "x", shared = "callee"}:call(nested)
    out.nested_async = funcs.async(nested):channel():receive():data()
  end
  return out
end
"""
)

CHILD = (
    OBSERVE
    + """
local funcs = require("funcs")
-- A spawned process: report what it sees, what its own child sees, and what functions
-- it calls see.
return function(main, depth)
  local report = observe()
  report.call = funcs.call("test:reader")
  report.async = funcs.async("test:reader"):channel():receive():data()
  if depth > 1 then
    process.spawn("test:child", "test:processes", main, depth - 1)
  end
  process.send(main, "report", {depth = depth, report = report})
end
"""
)

ENTRIES = [
    entry("reader", "function.lua", ["ctx", "security", "funcs"]),
    entry("child", "process.lua", ["ctx", "security", "funcs"]),
]
FILES = {"reader.lua": READER, "child.lua": CHILD}


async def test_ctx_get_and_all(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local ctx = require("ctx")
        local function err_of(v, e)
          return {v = v == nil, kind = e:kind(), retryable = e:retryable()}
        end
        return function()
          local out = {}
          out.empty_all = ctx.all()
          out.missing = err_of(ctx.get("nope"))
          out.empty_key = err_of(ctx.get(""))
          out.nil_key = err_of(ctx.get())
          out.number_key = err_of(ctx.get(5))
          out.child = process.with_context{a = 1, t = {x = {1, 2}}}:exec("test:ctxproc",
                                                                          "test:processes")
          return out
        end
        """,
        modules=["ctx"],
        files={
            "ctxproc.lua": """
                local ctx = require("ctx")
                return function()
                  local t = ctx.get("t")
                  t.x[1] = 99  -- a copy: the next read is unchanged
                  local a, err = ctx.get("a")
                  local all, all_err = ctx.all()
                  return {a = a, err = err == nil, t = ctx.get("t"), all = all,
                          all_err = all_err == nil, hidden = ctx.get("@security.actor") == nil}
                end"""
        },
        entries=[entry("ctxproc", "process.lua", ["ctx"])],
    )
    assert value["empty_all"] == []
    assert value["missing"] == {"v": True, "kind": "NotFound", "retryable": False}
    assert value["empty_key"]["kind"] == "Invalid"
    assert value["nil_key"]["kind"] == "Invalid"
    assert value["number_key"]["kind"] == "Invalid"
    assert value["child"] == {
        "a": 1,
        "err": True,
        "t": {"x": [1, 2]},
        "all": {"a": 1, "t": {"x": [1, 2]}},
        "all_err": True,
        "hidden": True,
    }


async def test_context_flows_into_calls_nested_calls_and_futures(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local funcs = require("funcs")
        return function()
          local ex = funcs.new():with_context{a = 1, shared = "caller"}
          local sync = ex:call("test:reader", "test:reader")
          local fut = ex:async("test:reader", "test:reader"):channel():receive():data()
          local plain = funcs.call("test:reader")
          return {sync = sync, fut = fut, plain = plain}
        end
        """,
        modules=["funcs"],
        files=FILES,
        entries=ENTRIES,
    )
    outer = {"a": 1, "shared": "caller"}
    for result in (value["sync"], value["fut"]):
        assert result["ctx"] == outer
        assert result["nested"]["ctx"] == outer
        assert result["nested_async"]["ctx"] == outer
        # the executor's values are added; the call site wins per key
        assert result["nested_ex"]["ctx"] == {"a": 1, "inner": "x", "shared": "callee"}
        assert result["actor"] is False and result["scope"] is False
    assert value["plain"]["ctx"] == []


async def test_context_flows_through_spawn_into_grandchildren(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        return function()
          local me = process.pid()
          process.with_context{p = "v", n = 2}:spawn("test:child", "test:processes", me, 2)
          local reports = {}
          local inbox = process.inbox()
          for _ = 1, 2 do
            local m = inbox:receive():payload():data()
            reports[m.depth] = m.report
          end
          return reports
        end
        """,
        modules=[],
        files=FILES,
        entries=ENTRIES,
    )
    expected = {"p": "v", "n": 2}
    for depth in (1, 2):  # 2 = child, 1 = grandchild
        report = value[depth - 1]
        assert report["ctx"] == expected
        assert report["call"]["ctx"] == expected
        assert report["async"]["ctx"] == expected


async def test_security_objects(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local security = require("security")
        return function()
          local a = security.new_actor("user:1", {role = "admin", tags = {"x"}})
          local s = security.new_scope()
          local bad, bad_err = security.new_actor(42)
          local ok, r, err = pcall(process.send, process.pid(), "t", a)
          return {
            id = a:id(), meta = a:meta(), policies = s:policies(),
            actor = security.actor() == nil, scope = security.scope() == nil,
            bad = bad == nil and bad_err:kind(),
            type = type(a),
            can = security.can("anything", "anywhere"),
            sent = ok and r ~= nil,
            equal = a == security.new_actor("user:1", {role = "admin", tags = {"x"}}),
            with = s:with("policy.a"):policies(),
            unchanged = #s:policies(),
          }
        end
        """,
        modules=["security"],
    )
    assert value == {
        "id": "user:1",
        "meta": {"role": "admin", "tags": ["x"]},
        "policies": [],
        "actor": True,
        "scope": True,
        "bad": "Invalid",
        "type": "userdata",
        "can": True,
        "sent": False,
        "equal": True,
        "with": ["policy.a"],
        "unchanged": 0,
    }


async def test_actor_and_scope_travel_with_spawns_and_are_inherited(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local security = require("security")
        return function()
          local me = process.pid()
          local a = security.new_actor("alice", {team = "blue"})
          local s = security.new_scope({"p1"})
          process.with_context({}):with_actor(a):with_scope(s)
            :spawn("test:child", "test:processes", me, 2)
          local reports = {}
          local inbox = process.inbox()
          for _ = 1, 2 do
            local m = inbox:receive():payload():data()
            reports[m.depth] = m.report
          end
          local forged = process.with_context{["@security.actor"] = "mallory"}
            :exec("test:observer", "test:processes")
          local pid, bad = process.with_context({}):with_actor("mallory")
            :spawn("test:child", "test:processes", me, 1)
          return {reports = reports, forged = forged, bad = pid == nil and bad:kind(),
                  mine = security.actor() == nil}
        end
        """,
        modules=["security"],
        files={**FILES, "observer.lua": OBSERVE + "return observe"},
        entries=[*ENTRIES, entry("observer", "process.lua", ["ctx", "security"])],
    )
    for depth in (1, 2):  # the child and the grandchild, and functions they call
        report = value["reports"][depth - 1]
        for seen in (report, report["call"], report["async"]):
            assert seen["actor"] == "alice"
            assert seen["actor_meta"] == {"team": "blue"}
            assert seen["scope"] == ["p1"]
            assert seen["ctx"] == []
    assert value["forged"]["actor"] is False and value["forged"]["ctx"] == []
    assert value["bad"] == "Invalid"
    assert value["mine"] is True


async def test_executor_actor_and_scope(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local funcs = require("funcs")
        local security = require("security")
        return function()
          local a = security.new_actor("bob", {})
          local s = security.new_scope()
          local ex, err = funcs.new():with_actor(a)
          local ex2 = ex:with_scope(s)
          return {
            err = err == nil,
            actor_only = ex:call("test:reader", "test:reader"),
            both = ex2:async("test:reader"):channel():receive():data(),
            plain = funcs.call("test:reader"),
          }
        end
        """,
        modules=["funcs", "security"],
        files=FILES,
        entries=ENTRIES,
    )
    assert value["err"]
    only = value["actor_only"]
    assert only["actor"] == "bob" and only["scope"] is False and only["actor_meta"] == []
    for nested in ("nested", "nested_ex", "nested_async"):
        assert only[nested]["actor"] == "bob"
    assert value["both"]["actor"] == "bob" and value["both"]["scope"] == []
    assert value["plain"]["actor"] is False
