"""The `funcs` module (lua-api §3.1, §7, §19): calls, executors, futures, process entries
called as functions, retries, timeouts and the lifetime of a call."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from tests.lua_harness import lua_entry, run_lua

pytestmark = pytest.mark.anyio

HAS_TIME = importlib.util.find_spec("lua_bindings.modules.time") is not None
"""The latency assertions of §19 measure with the `time` module; without it only those
assertions are skipped (the behaviour around them is still tested)."""
TIME = ["time"] if HAS_TIME else []


def function(name: str, **extra: Any) -> dict[str, Any]:
    return lua_entry(name, "function.lua", **extra)


process_entry = lua_entry


async def run(tmp_path: Path, main: str, *, modules: list[str], **app: Any) -> Any:
    event = await run_lua(tmp_path, main, modules=["funcs", *modules], **app)
    assert event.error is None, event.error
    return event.value


# Elapsed milliseconds in Lua, or -1 without the time module.
CLOCK = """
local has_time, time = pcall(require, "time")
local function now() return has_time and time.now() or nil end
local function ms_since(t0) return has_time and time.now():sub(t0):milliseconds() or -1 end
"""

BLOCKER = """
-- Tells `whom` its PID, then waits for a message that never comes.
return function(whom, also)
  process.send(whom, "blocker", process.pid())
  if also then process.send(also, "blocker", process.pid()) end
  process.inbox():receive()
  return "unblocked"
end
"""


async def test_call_passes_arguments_and_returns_the_result(tmp_path: Path) -> None:
    files = {
        "echo.lua": """
            return function(a, b, c, d, e)
              return {a = a, b = b, c = c, d = d, e = e, b_type = math.type(b),
                      n = select("#", a, b, c, d, e)}
            end""",
        "two.lua": "return function(x) return x * 2, 99 end",
        "nothing.lua": "return function() end",
        "whoami.lua": "return function() return process.pid() end",
    }
    value = await run(
        tmp_path,
        """
        local funcs = require("funcs")
        return function()
          local t = {x = {1, 2}}
          local r, err = funcs.call("test:echo", 1, 2.5, "s", t, true)
          t.x[1] = 100  -- the callee got a copy
          local two, two_err = funcs.call("test:two", 21)
          local none, none_err = funcs.call("test:nothing")
          local pid = funcs.call("test:whoami")
          return {r = r, err = err == nil, two = two, two_err = two_err == nil,
                  none = none == nil, none_err = none_err == nil, pid = pid, me = process.pid()}
        end
        """,
        modules=[],
        files=files,
        entries=[function("echo"), function("two"), function("nothing"), function("whoami")],
    )
    assert value["r"] == {
        "a": 1,
        "b": 2.5,
        "c": "s",
        "d": {"x": [1, 2]},
        "e": True,
        "b_type": "float",
        "n": 5,
    }
    assert value["err"] and value["two"] == 42 and value["two_err"]
    assert value["none"] and value["none_err"]
    assert value["pid"].startswith("{funcs|") and value["pid"] != value["me"]


async def test_callee_errors_reach_the_caller_intact(tmp_path: Path) -> None:
    files = {
        "fails.lua": """
            return function(mode)
              if mode == "ret" then
                return nil, errors.new{kind = errors.NOT_FOUND, message = "no such thing",
                                       retryable = true, details = {id = 7}}
              elseif mode == "raise_obj" then
                error(errors.new{kind = errors.CONFLICT, message = "clash", retryable = false,
                                 details = {n = 1}})
              elseif mode == "raise_str" then
                error("plain boom")
              elseif mode == "false_str" then
                return false, "timeout waiting"
              end
            end""",
        "needs_json.lua": """
            return function()
              local json = require("json")
              return 1
            end""",
    }
    value = await run(
        tmp_path,
        """
        local funcs = require("funcs")
        local function describe(r, e)
          return {r = r == nil, kind = e:kind(), message = e:message(), retryable = e:retryable(),
                  details = e:details(), text = tostring(e), is_error = type(e) == "userdata"}
        end
        return function()
          return {
            ret = describe(funcs.call("test:fails", "ret")),
            raise_obj = describe(funcs.call("test:fails", "raise_obj")),
            raise_str = describe(funcs.call("test:fails", "raise_str")),
            false_str = describe(funcs.call("test:fails", "false_str")),
            module = describe(funcs.call("test:needs_json")),
          }
        end
        """,
        modules=[],
        files=files,
        entries=[function("fails"), function("needs_json")],
    )
    ret = value["ret"]
    assert ret["r"] is True and ret["is_error"]
    assert (ret["kind"], ret["message"], ret["retryable"], ret["details"]) == (
        "NotFound",
        "no such thing",
        True,
        {"id": 7},
    )
    raised = value["raise_obj"]
    assert (raised["kind"], raised["message"], raised["retryable"], raised["details"]) == (
        "Conflict",
        "clash",
        False,
        {"n": 1},
    )
    plain = value["raise_str"]
    assert plain["kind"] == "Internal" and plain["retryable"] is False
    assert "plain boom" in plain["message"]
    assert value["false_str"]["message"] == "timeout waiting"
    assert value["false_str"]["kind"] == ""
    assert "json" in value["module"]["message"]
    assert "not allowed" in value["module"]["message"]


async def test_bad_targets_give_invalid_and_never_raise(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local funcs = require("funcs")
        local targets = {"", "noname", ":name", "ns:", 42, true, "test:missing", "test:lib",
                         "test:plain_proc"}
        local function kinds(f)
          local out = {}
          for i = 1, #targets do
            local ok, r, err = pcall(f, targets[i])
            out[i] = ok and r == nil and err and err:kind() or ("bad: " .. tostring(r))
          end
          local ok, r, err = pcall(f, nil)
          out[#out + 1] = ok and r == nil and err and err:kind() or ("bad: " .. tostring(r))
          return out
        end
        return function()
          local ex = funcs.new()
          return {
            call = kinds(funcs.call),
            async = kinds(funcs.async),
            ex_call = kinds(function(t) return ex:call(t) end),
            ex_async = kinds(function(t) return ex:async(t) end),
          }
        end
        """,
        modules=[],
        files={"lib.lua": "return {}", "plain_proc.lua": "return function() end"},
        entries=[
            {"name": "lib", "kind": "library.lua", "source": "file://lib.lua"},
            process_entry("plain_proc"),
        ],
    )
    expected = [*["Invalid"] * 6, "NotFound", "Invalid", "Invalid", "Invalid"]
    for name in ("call", "async", "ex_call", "ex_async"):
        assert value[name] == expected, name


async def test_future_methods(tmp_path: Path) -> None:
    files = {
        "double.lua": "return function(x) return {v = x * 2} end",
        "fails.lua": (
            "return function() return nil, errors.new{kind = errors.INVALID, message = 'nope'} end"
        ),
        "blocker.lua": BLOCKER,
    }
    value = await run(
        tmp_path,
        """
        local funcs = require("funcs")
        return function()
          local out = {}
          local f, err = funcs.async("test:double", 21)
          out.err = err == nil
          out.pending = {f:is_complete(), f:is_canceled(), f:result() == nil,
                         select("#", f:result()), select(2, f:result()) == nil}
          local ch = f:channel()
          out.same_channel = rawequal(ch, f:response()) and rawequal(ch, f:channel())
          local item, ok = ch:receive()
          out.item = {ok = ok, text = tostring(item), data = item:data(),
                      format = item:get_format()}
          local p1, e1 = f:result()
          local p2 = f:result()
          out.cached = rawequal(p1, item) and rawequal(p1, p2) and e1 == nil
          out.done = {f:is_complete(), f:is_canceled()}
          local no_err, has = f:error()
          out.no_error = {no_err == nil, has}

          local g = funcs.async("test:fails")
          local gitem, gok = g:response():receive()
          local r, gerr = g:result()
          local eobj, eflag = g:error()
          out.failed = {item_kind = gitem:kind(), item_ok = gok, r = r == nil,
                        kind = gerr:kind(), message = gerr:message(), error_flag = eflag,
                        same = eobj:message() == "nope", complete = g:is_complete()}

          local b = funcs.async("test:blocker", process.pid())
          local msg = process.inbox():receive()
          local blocker_pid = msg:payload():data()
          local c1, c2 = b:cancel()
          local citem, cok = b:channel():receive()
          local cr, cerr = b:result()
          local _, send_err = process.send(blocker_pid, "wake", 1)
          out.canceled = {ok = c1, is_canceled = b:is_canceled(), complete = b:is_complete(),
                          item_kind = citem:kind(), item_ok = cok, r = cr == nil,
                          kind = cerr:kind(), callee_gone = send_err ~= nil,
                          again = b:cancel()}
          return out
        end
        """,
        modules=[],
        files=files,
        entries=[function("double"), function("fails"), function("blocker")],
    )
    assert value["err"]
    assert value["pending"] == [False, False, True, 2, True]
    assert value["same_channel"]
    assert value["item"] == {
        "ok": True,
        "text": "payload(lua/any)",
        "data": {"v": 42},
        "format": "lua/any",
    }
    assert value["cached"]
    assert value["done"] == [True, False]
    assert value["no_error"] == [True, False]
    assert value["failed"] == {
        "item_kind": "Invalid",
        "item_ok": True,
        "r": True,
        "kind": "Invalid",
        "message": "nope",
        "error_flag": True,
        "same": True,
        "complete": True,
    }
    assert value["canceled"] == {
        "ok": True,
        "is_canceled": True,
        "complete": True,
        "item_kind": "Canceled",
        "item_ok": True,
        "r": True,
        "kind": "Canceled",
        "callee_gone": True,
        "again": True,
    }


async def test_select_over_futures_and_a_timeout(tmp_path: Path) -> None:
    timeout = 'time.after("5s")' if HAS_TIME else "channel.new()"
    value = await run(
        tmp_path,
        f"""
        local funcs = require("funcs")
        {"local time = require('time')" if HAS_TIME else ""}
        return function()
          local f1 = funcs.async("test:id", "one")
          local f2 = funcs.async("test:id", "two")
          local timeout = {timeout}
          local seen = {{}}
          for i = 1, 2 do
            local r = channel.select{{f1:channel():case_receive(), f2:channel():case_receive(),
                                     timeout:case_receive()}}
            if r.channel == timeout then return "timed out" end
            local which = r.channel == f1:channel() and "f1" or (r.channel == f2:channel() and "f2")
            seen[which] = r.value:data()
          end
          local r = channel.select{{f1:channel():case_receive(), default = true}}
          seen.default_after = r.default == true
          seen.result1 = f1:result():data()
          return seen
        end
        """,
        modules=TIME,
        files={"id.lua": "return function(x) return x end"},
        entries=[function("id")],
    )
    assert value == {"f1": "one", "f2": "two", "default_after": True, "result1": "one"}


async def test_five_concurrent_async_calls_are_fast(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        CLOCK
        + """
        local funcs = require("funcs")
        return function()
          local t0 = now()
          local futures = {}
          for i = 1, 5 do futures[i] = funcs.async("test:square", i) end
          local results = {}
          for i = 1, 5 do
            local p = futures[i]:channel():receive()
            results[i] = p:data()
          end
          return {results = results, ms = ms_since(t0)}
        end
        """,
        modules=TIME,
        files={"square.lua": "return function(x) return x * x end"},
        entries=[function("square")],
    )
    assert value["results"] == [1, 4, 9, 16, 25]
    if HAS_TIME:
        assert value["ms"] < 400
    else:
        pytest.skip("time module missing: only the 400 ms bound is unchecked")


async def test_process_entries_called_as_functions_run_in_parallel(tmp_path: Path) -> None:
    sleeper = (
        """
        local time = require("time")
        return function(n)
          time.sleep("50ms")
          if n == 0 then error("kaput") end
          return n * 10
        end"""
        if HAS_TIME
        else """
        return function(n)
          if n == 0 then error("kaput") end
          return n * 10
        end"""
    )
    value = await run(
        tmp_path,
        CLOCK
        + """
        local funcs = require("funcs")
        return function()
          local t0 = now()
          local done = channel.new(3)
          for i = 1, 3 do
            coroutine.spawn(function()
              local r, err = funcs.call("test:sleeper", i)
              done:send({i = i, r = r, err = err and tostring(err)})
            end)
          end
          local results = {}
          for _ = 1, 3 do
            local m = done:receive()
            results[m.i] = m.r
          end
          local ms = ms_since(t0)
          local r, err = funcs.call("test:sleeper", 0)
          return {results = results, ms = ms, failed = r == nil and err:message()}
        end
        """,
        modules=TIME,
        files={"sleeper.lua": sleeper},
        entries=[
            process_entry("sleeper", modules=TIME, meta={"default_host": "processes"}),
        ],
    )
    assert value["results"] == [10, 20, 30]
    assert "kaput" in value["failed"]
    if HAS_TIME:
        assert value["ms"] < 200
    else:
        pytest.skip("time module missing: only the 200 ms bound is unchecked")


async def test_calls_to_process_entries_overlap(tmp_path: Path) -> None:
    """Without timing: each callee waits for a go that main sends only once all three are
    running, so serialised calls would never finish."""
    value = await run(
        tmp_path,
        """
        local funcs = require("funcs")
        return function()
          local me = process.pid()
          local futures = {}
          for i = 1, 3 do futures[i] = funcs.async("test:rendezvous", me, i) end
          local inbox = process.inbox()
          local pids = {}
          for i = 1, 3 do pids[i] = inbox:receive():payload():data() end
          for i = 1, 3 do process.send(pids[i], "go") end
          local out = {}
          for i = 1, 3 do out[i] = futures[i]:channel():receive():data() end
          return out
        end
        """,
        modules=[],
        files={
            "rendezvous.lua": """
                return function(main, n)
                  process.send(main, "ready", process.pid())
                  process.inbox():receive()
                  return n
                end"""
        },
        entries=[process_entry("rendezvous", meta={"default_host": "test:processes"})],
        timeout=5,
    )
    assert value == [1, 2, 3]


async def test_executor_timeout_fails_the_call_and_stops_the_callee(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        CLOCK
        + """
        local funcs = require("funcs")
        return function()
          local ex, ex_err = funcs.new():with_options{timeout = 100}
          local t0 = now()
          local r, err = ex:call("test:blocker", process.pid())
          local ms = ms_since(t0)
          local blocker = process.inbox():receive():payload():data()
          local _, send_err = process.send(blocker, "wake")
          local bad, bad_err = funcs.new():with_options{timeout = "soon"}
          local fast = ex:call("test:id", 5)
          local fut = ex:async("test:blocker", process.pid())
          local item = fut:channel():receive()
          return {r = r == nil, kind = err:kind(), retryable = err:retryable(), ms = ms,
                  ex_err = ex_err == nil, gone = send_err ~= nil and send_err:kind(),
                  bad = bad == nil and bad_err:kind(), fast = fast,
                  future_kind = item:kind()}
        end
        """,
        modules=TIME,
        files={"blocker.lua": BLOCKER, "id.lua": "return function(x) return x end"},
        entries=[function("blocker"), function("id")],
    )
    assert value["r"] and value["kind"] == "Timeout" and value["retryable"] is True
    assert value["ex_err"] and value["gone"] == "NotFound"
    assert value["bad"] == "Invalid" and value["fast"] == 5
    assert value["future_kind"] == "Timeout"
    if HAS_TIME:
        assert 90 <= value["ms"] < 1000


async def test_retry_policy_from_meta(tmp_path: Path) -> None:
    counter = """
        return function()
          local n = 0
          local inbox = process.inbox()
          while true do
            local msg = inbox:receive()
            n = n + 1
            process.send(msg:payload():data(), "count", n)
          end
        end"""
    flaky = """
        return function(counter, succeed_at)
          process.send(counter, "inc", process.pid())
          local n = process.inbox():receive():payload():data()
          if n < succeed_at then return nil, errors.new("attempt " .. n .. " failed") end
          return n
        end"""
    retry = {"max_attempts": 4, "initial_delay": 5, "backoff_factor": 2}
    value = await run(
        tmp_path,
        """
        local funcs = require("funcs")
        return function()
          local c1 = process.spawn("test:counter", "test:processes")
          local ok = funcs.call("test:flaky", c1, 3)
          local c2 = process.spawn("test:counter", "test:processes")
          local r, err = funcs.call("test:flaky", c2, 10)
          local c3 = process.spawn("test:counter", "test:processes")
          local r3, err3 = funcs.call("test:once", c3, 2)
          return {ok = ok, failed = r == nil and err:message(), once = r3 == nil and err3:message()}
        end
        """,
        modules=[],
        files={"counter.lua": counter, "flaky.lua": flaky, "once.lua": flaky},
        entries=[
            process_entry("counter"),
            function("flaky", meta={"options": {"retry": retry}}),
            function("once"),
        ],
    )
    assert value == {"ok": 3, "failed": "attempt 4 failed", "once": "attempt 1 failed"}


async def test_a_callee_dies_with_its_caller(tmp_path: Path) -> None:
    caller = """
        local funcs = require("funcs")
        return function(main, mode)
          if mode == "call" then
            return funcs.call("test:blocker", main)
          end
          -- a future that is never read: the caller returns once the callee runs
          local f = funcs.async("test:blocker", main, process.pid())
          process.inbox():receive()
          return "returned"
        end"""
    value = await run(
        tmp_path,
        """
        return function()
          local me = process.pid()
          local inbox, events = process.inbox(), process.events()
          local caller = process.spawn("test:caller", "test:processes", me, "call")
          local callee = inbox:receive():payload():data()
          process.terminate(caller)
          local _, err1 = process.send(callee, "wake")

          local caller2 = process.spawn_monitored("test:caller", "test:processes", me, "async")
          local callee2 = inbox:receive():payload():data()
          local ev = events:receive()
          local _, err2 = process.send(callee2, "wake")
          return {terminated = err1 and err1:kind(), returned = ev.result.value,
                  unread_future = err2 and err2:kind()}
        end
        """,
        modules=[],
        files={"blocker.lua": BLOCKER, "caller.lua": caller},
        entries=[function("blocker"), process_entry("caller", modules=["funcs"])],
    )
    assert value == {"terminated": "NotFound", "returned": "returned", "unread_future": "NotFound"}


async def test_futures_and_executors_cannot_leave_the_process(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local funcs = require("funcs")
        return function()
          -- process.send either raises or returns nil, err: both refuse the value
          local function send(v)
            local ok, r, err = pcall(process.send, process.pid(), "t", v)
            return ok and r ~= nil, tostring(ok and err or r)
          end
          local f = funcs.async("test:id", 1)
          local sent, err = send({future = f})
          local r, call_err = funcs.call("test:id", f)
          local sent2, err2 = send(funcs.new())
          f:channel():receive()
          return {sent = sent, message = err, call = r == nil and call_err:kind(),
                  call_message = call_err:message(), executor = sent2, executor_message = err2}
        end
        """,
        modules=[],
        files={"id.lua": "return function(x) return x end"},
        entries=[function("id")],
    )
    assert value["sent"] is False and "future" in value["message"]
    assert value["call"] == "Invalid" and "future" in value["call_message"]
    assert value["executor"] is False and "executor" in value["executor_message"]


async def test_executor_is_immutable(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local funcs = require("funcs")
        local ctx = require("ctx")
        return function()
          local base = funcs.new()
          local a, err = base:with_context{k = "a"}
          local b = a:with_context{k = "b", extra = 1}
          local bad, bad_err = base:with_context("nope")
          local no_actor, actor_err = base:with_actor("someone")
          local no_scope, scope_err = base:with_scope({})
          return {
            distinct = not rawequal(base, a) and not rawequal(a, b),
            err = err == nil,
            base = base:call("test:ctx_all"),
            a = a:call("test:ctx_all"),
            b = b:call("test:ctx_all"),
            a_again = a:call("test:ctx_all"),
            chained = funcs.new():with_context{c = 1}:with_options{timeout = 500}
              :call("test:ctx_all"),
            bad = bad == nil and bad_err:kind(),
            actor = no_actor == nil and actor_err:kind(),
            scope = no_scope == nil and scope_err:kind(),
          }
        end
        """,
        modules=["ctx"],
        files={"ctx_all.lua": "local ctx = require('ctx') return function() return ctx.all() end"},
        entries=[function("ctx_all", modules=["ctx"])],
    )
    assert value["distinct"] and value["err"]
    assert value["base"] == []
    assert value["a"] == {"k": "a"} and value["a_again"] == {"k": "a"}
    assert value["b"] == {"k": "b", "extra": 1}
    assert value["chained"] == {"c": 1}
    assert value["bad"] == value["actor"] == value["scope"] == "Invalid"


async def test_trivial_calls_are_cheap(tmp_path: Path) -> None:
    if not HAS_TIME:
        pytest.skip("time module missing: the per-call cost cannot be measured")
    value = await run(
        tmp_path,
        CLOCK
        + """
        local funcs = require("funcs")
        return function()
          for i = 1, 20 do funcs.call("test:id", i) end  -- warm up
          local t0 = now()
          for i = 1, 300 do funcs.call("test:id", i) end
          return ms_since(t0) / 300
        end
        """,
        modules=TIME,
        files={"id.lua": "return function(x) return x end"},
        entries=[function("id")],
    )
    assert value < 2.0


async def test_a_process_that_never_yields_fails_and_the_host_goes_on(tmp_path: Path) -> None:
    """Lua cannot be pre-empted: past its CPU budget (`host: {cpu_budget: ...}` on the
    process.host) a process fails with Timeout instead of stalling the host's others."""
    event = await run_lua(
        tmp_path,
        """
        return {main = function()
          local ok, err = process.exec("test:spin", "test:processes")
          return {kind = err:kind(), message = err:message(), after = "still running"}
        end}
        """,
        files={"spin.lua": "return {main = function() while true do end end}"},
        entries=[{"name": "spin", "kind": "process.lua", "source": "file://spin.lua"}],
        host_options={"cpu_budget": "200ms"},
    )
    assert event.error is None, event.error
    assert event.value["kind"] == "Timeout"
    assert "without yielding" in event.value["message"]
    assert event.value["after"] == "still running"
