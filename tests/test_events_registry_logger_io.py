"""The `events`, `registry`, `logger` and `io` Lua modules and the `print`, `subscribe` and
`unsubscribe` globals (lua-api §3.2, §3.5, §14)."""

from __future__ import annotations

import io as stdio
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors.host import SpawnRequest
from actors.messages import Event
from actors.runtime import AppRuntime
from lua_bindings.modules.events import EventBus, bus_for
from tests.lua_harness import HOST, lua_entry, run_entry, write_app

pytestmark = pytest.mark.anyio

TERM = "test:term"
TERMINAL_ENTRY = {"name": "term", "kind": "terminal.host"}


async def run_app(
    tmp_path: Path,
    main: str,
    *args: Any,
    host: str = HOST,
    setup: Callable[[Any], None] | None = None,
    after: Callable[[AppRuntime, Event], None] | None = None,
    **app: Any,
) -> Event:
    """Write an app around `main`, run `test:main` on `host`; `setup(host)` runs before the
    spawn and `after(runtime, exit_event)` while the node is still up."""
    app_dir = write_app(tmp_path / "app", main, **app)
    runtime = AppRuntime.load(app_dir)
    async with runtime.node:
        await runtime.start()
        target = runtime.node.host(host)
        if setup is not None:
            setup(target)
        pid = await runtime.node.spawn(host, SpawnRequest(target="test:main", args=args))
        with anyio.fail_after(10):
            event = await target.wait_exit(pid)
        if after is not None:
            after(runtime, event)
    return event


async def value(tmp_path: Path, main: str, *args: Any, **kw: Any) -> Any:
    event = await run_app(tmp_path, main, *args, **kw)
    assert event.error is None, event.error
    return event.value


def process_entry(name: str, modules: list[str]) -> dict[str, Any]:
    return lua_entry(name, modules=modules)


# -- events -------------------------------------------------------------------------------------


async def test_events_subscribe_send_receive(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local events = require("events")
        return function()
          local orders = events.subscribe("orders.*")
          local exact = events.subscribe("users")
          local created = events.subscribe("*", "created")
          local ch = orders:channel()
          assert(rawequal(ch, orders:channel()), "channel() must return the same channel")
          assert(events.send("orders.created", "created", "/orders/1", {id = 1, tags = {"a"}}))
          assert(events.send("users", "updated", "/users/2"))
          assert(events.send("users.admin", "created", "/users/3", "text"))
          assert(events.send("orders.eu.paid", "paid", "/orders/4", 4.5))
          local function drain(sub)
            local out = {}
            while #sub:channel() > 0 do
              local e = sub:channel():receive()
              out[#out + 1] = {e.system, e.kind, e.path, e.data == nil and "nil" or e.data}
            end
            return out
          end
          return {orders = drain(orders), exact = drain(exact), created = drain(created)}
        end
        """,
        modules=["events"],
    )
    assert got["orders"] == [
        ["orders.created", "created", "/orders/1", {"id": 1, "tags": ["a"]}],
        ["orders.eu.paid", "paid", "/orders/4", 4.5],
    ]
    assert got["exact"] == [["users", "updated", "/users/2", "nil"]]
    assert got["created"] == [
        ["orders.created", "created", "/orders/1", {"id": 1, "tags": ["a"]}],
        ["users.admin", "created", "/users/3", "text"],
    ]


async def test_events_order_from_one_sender_and_coroutines(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local events = require("events")
        return function()
          local sub = events.subscribe("seq.*")
          local done = channel.new(1)
          coroutine.spawn(function()
            for i = 1, 50 do events.send("seq.co", "n", "/co", i) end
            done:send(true)
          end)
          for i = 1, 50 do events.send("seq.main", "n", "/main", i) end
          done:receive()
          local seen = {co = {}, main = {}}
          for _ = 1, 100 do
            local e = sub:channel():receive()
            local list = e.path == "/co" and seen.co or seen.main
            list[#list + 1] = e.data
          end
          return seen
        end
        """,
        modules=["events"],
    )
    assert got["co"] == list(range(1, 51))
    assert got["main"] == list(range(1, 51))


async def test_events_across_processes_in_order(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local events = require("events")
        return function()
          local sub = events.subscribe("app.*", "tick")
          local pid = process.spawn_monitored("test:sender", "test:processes", 20)
          local out = {}
          for _ = 1, 20 do
            local e = sub:channel():receive()
            out[#out + 1] = e.data.n
          end
          local exit = process.events():receive()
          return {ticks = out, exit_ok = exit.result.error == nil}
        end
        """,
        modules=["events"],
        files={
            "sender.lua": """
            local events = require("events")
            return function(n)
              for i = 1, n do
                local ok, err = events.send("app.sender", "tick", "/tick", {n = i})
                assert(ok, tostring(err))
                events.send("app.sender", "other", "/skip", {n = -i})
              end
            end
            """
        },
        entries=[process_entry("sender", ["events"])],
    )
    assert got == {"ticks": list(range(1, 21)), "exit_ok": True}


async def test_events_invalid_arguments(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local events = require("events")
        return function()
          local function r(v, err) return {v == nil, err and err:kind() or false} end
          return {
            empty_system = r(events.send("", "k", "/p")),
            empty_kind = r(events.send("s", "", "/p")),
            empty_path = r(events.send("s", "k", "")),
            nil_system = r(events.send(nil, "k", "/p")),
            number_kind = r(events.send("s", 5, "/p")),
            func_data = r(events.send("s", "k", "/p", {f = print})),
            channel_data = r(events.send("s", "k", "/p", channel.new())),
            empty_pattern = r(events.subscribe("")),
            nil_pattern = r(events.subscribe()),
            table_pattern = r(events.subscribe({})),
            number_kind_sub = r(events.subscribe("x", 5)),
          }
        end
        """,
        modules=["events"],
    )
    for name, result in got.items():
        assert result == [True, "Invalid"], name


async def test_events_close_and_data_copies(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local events = require("events")
        return function()
          local a = events.subscribe("d")
          local b = events.subscribe("d")
          events.send("d", "k", "/p", {list = {1, 2}})
          local ea = a:channel():receive()
          ea.data.list[1] = 99
          local eb = b:channel():receive()
          events.send("d", "k", "/p", "queued")
          a:close()
          a:close()
          events.send("d", "k", "/p", "after close")
          local queued = a:channel():receive()
          local v, ok = a:channel():receive()
          local eb2 = b:channel():receive()
          local eb3 = b:channel():receive()
          return {b_first = eb.data.list[1], queued = queued.data, closed = {v == nil, ok},
                  b_rest = {eb2.data, eb3.data}, tostr = tostring(b):sub(1, 12)}
        end
        """,
        modules=["events"],
    )
    assert got == {
        "b_first": 1,
        "queued": "queued",
        "closed": [True, False],
        "b_rest": ["queued", "after close"],
        "tostr": "Subscription",
    }


async def test_events_subscriptions_die_with_their_process(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def after(runtime: AppRuntime, event: Event) -> None:
        seen["subs"] = len(bus_for(runtime.node))

    got = await value(
        tmp_path,
        """
        local events = require("events")
        return function()
          local pid = process.spawn_monitored("test:listener", "test:processes", process.pid())
          local msg = process.inbox():receive()
          assert(msg:topic() == "ready")
          assert(events.send("dead.x", "k", "/p", "first"))
          local exit = process.events():receive()
          -- the listener is gone: nothing is delivered to it, and the bus drops it
          assert(events.send("dead.x", "k", "/p", "second"))
          return exit.result.value
        end
        """,
        modules=["events"],
        files={
            "listener.lua": """
            local events = require("events")
            return function(parent)
              local sub = events.subscribe("dead.*")
              local also = subscribe("dead.*")
              process.send(parent, "ready", true)
              return sub:channel():receive().data
            end
            """
        },
        entries=[process_entry("listener", ["events"])],
        after=after,
    )
    assert got == "first"
    assert seen["subs"] == 0


async def test_subscribe_and_unsubscribe_globals(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        return function()
          local ch = subscribe("g.*")
          local ch2, err = subscribe("")
          local kind_ch = subscribe("g.*", "only")
          local events = require("events")
          events.send("g.one", "k", "/p", 1)
          events.send("g.two", "only", "/p", 2)
          local first = ch:receive()
          local second = ch:receive()
          local only = kind_ch:receive()
          local removed = unsubscribe(ch)
          local again = unsubscribe(ch)
          local other = unsubscribe(channel.new())
          local v, ok = ch:receive()
          return {first.data, second.data, only.data, removed, again, other, ok,
                  ch2 == nil, err:kind()}
        end
        """,
        modules=["events"],
    )
    assert got == [1, 2, 2, True, False, False, False, True, "Invalid"]


async def test_subscribe_global_needs_no_modules_entry(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        return function()
          local ch = subscribe("x")
          return {type(ch), #ch, unsubscribe(ch)}
        end
        """,
    )
    assert got == ["table", 0, True]


def test_event_bus_in_python() -> None:
    bus = EventBus(max_pending=3)
    alive = {"v": True}
    sub = bus.subscribe("a.*", alive=lambda: alive["v"])
    other = bus.subscribe("a.b", "k")
    assert bus.send("a.b", "k", "/p", 1) == 2
    assert bus.send("a.b", "x", "/p", 2) == 1
    for n in range(5):
        bus.send("a.c", "k", "/p", n)
    assert len(sub.queue) == 3 and sub.dropped == 4  # capped: best effort
    assert [e["data"] for e in sub.queue.items] == [1, 2, 0]
    alive["v"] = False
    assert bus.send("a.b", "k", "/p", 3) == 1
    assert len(bus) == 1
    other.close()
    assert len(bus) == 0
    with pytest.raises(Exception, match="cannot be empty"):
        bus.send("", "k", "/p")
    with pytest.raises(Exception, match="cannot be empty"):
        bus.subscribe("")


# -- registry -----------------------------------------------------------------------------------


REGISTRY_ENTRIES = [
    {
        "name": "tool_a",
        "kind": "registry.entry",
        "meta": {"type": "tool", "tags": ["x"]},
        "title": "A",
        "nested": {"level": 2},
    },
    {"name": "tool_b", "kind": "registry.entry", "meta": {"type": "tool"}, "title": "B"},
    {"name": "other", "kind": "registry.entry", "meta": {"type": "model"}},
]


async def test_registry_get(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local registry = require("registry")
        return function()
          local e = registry.get("test:tool_a")
          local rel = registry.get("tool_a")
          e.meta.type = "changed"
          local fresh = registry.get("test:tool_a")
          local function r(v, err) return {v == nil, err and err:kind() or false} end
          return {
            e = {e.id, e.kind, e.namespace, e.name, e.data.title, e.data.nested.level,
                 e.meta.tags[1]},
            rel = rel.id, fresh = fresh.meta.type,
            main = registry.get("test:main").data.method,
            missing = r(registry.get("test:nope")),
            empty = r(registry.get("")),
            number = r(registry.get(5)),
            none = r(registry.get()),
          }
        end
        """,
        modules=["registry"],
        entries=REGISTRY_ENTRIES,
    )
    assert got["e"] == ["test:tool_a", "registry.entry", "test", "tool_a", "A", 2, "x"]
    assert got["rel"] == "test:tool_a"
    assert got["fresh"] == "tool"
    assert got["main"] == "main"
    assert got["missing"] == [True, "NotFound"]
    for name in ("empty", "number", "none"):
        assert got[name] == [True, "Invalid"], name


async def test_registry_find(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local registry = require("registry")
        return function()
          local function ids(list)
            local out = {}
            for i, e in ipairs(list) do out[i] = e.id end
            return out
          end
          local function r(v, err) return {v == nil, err and err:kind() or false} end
          return {
            tools = ids(registry.find({["meta.type"] = "tool"})),
            kind = ids(registry.find({kind = "registry.entry", ["meta.type"] = "model"})),
            dot_kind = #registry.find({[".kind"] = "process.lua"}),
            data = ids(registry.find({title = "B"})),
            nested = ids(registry.find({["data.nested.level"] = 2})),
            tags = ids(registry.find({["meta.tags"] = {"x"}})),
            none = #registry.find({["meta.type"] = "nothing"}),
            all = #registry.find({}),
            bad = r(registry.find("x")),
            bad_nil = r(registry.find()),
            bad_keys = r(registry.find({1, 2})),
          }
        end
        """,
        modules=["registry"],
        entries=REGISTRY_ENTRIES,
    )
    assert got["tools"] == ["test:tool_a", "test:tool_b"]
    assert got["kind"] == ["test:other"]
    assert got["dot_kind"] == 1
    assert got["data"] == ["test:tool_b"]
    assert got["nested"] == ["test:tool_a"]
    assert got["tags"] == ["test:tool_a"]
    assert got["none"] == 0
    assert got["all"] == 5  # the host, main and the three entries
    for name in ("bad", "bad_nil", "bad_keys"):
        assert got[name] == [True, "Invalid"], name


# -- logger and print ---------------------------------------------------------------------------


def app_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("app.")]


async def test_print_writes_an_info_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="app")
    event = await run_app(
        tmp_path,
        """
        return function()
          print("hello", 1, 2.5, nil, true, errors.new("boom"))
          print()
          print(payload.new(1))
          return process.pid()
        end
        """,
    )
    assert event.error is None, event.error
    records = app_records(caplog)
    assert [r.getMessage() for r in records] == [
        "hello\t1\t2.5\tnil\ttrue\tboom",
        "",
        "payload(lua/any)",
    ]
    first = records[0]
    assert first.levelno == logging.INFO
    assert first.name == "app.test:main"
    assert first.pid == event.value  # type: ignore[attr-defined]
    assert first.entry == "test:main"  # type: ignore[attr-defined]
    assert first.fields == {}  # type: ignore[attr-defined]
    assert "hello" not in capsys.readouterr().out


async def test_logger_levels_fields_and_children(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app")
    event = await run_app(
        tmp_path,
        """
        local logger = require("logger")
        return function()
          logger.debug("d")
          logger:info("user logged in", {user = "bob", id = 7})
          logger.warn("careful", {list = {1, 2}})
          logger:error("failed", {err = errors.new("bad thing"), fn = print})
          local child = logger:with({request = "r1", user = "root"})
          child:info("in request", {user = "alice"})
          child.with({step = 2}):warning("nested")
          logger:named("db"):with({q = "select"}):debug("query")
          logger.info(42)
          return true
        end
        """,
        modules=["logger"],
    )
    assert event.error is None, event.error
    records = app_records(caplog)
    summary = [
        (r.levelname, r.name, r.lua_message, r.fields)  # type: ignore[attr-defined]
        for r in records
    ]
    assert summary == [
        ("DEBUG", "app.test:main", "d", {}),
        ("INFO", "app.test:main", "user logged in", {"user": "bob", "id": 7}),
        ("WARNING", "app.test:main", "careful", {"list": [1, 2]}),
        ("ERROR", "app.test:main", "failed", {"err": "bad thing", "fn": "<function>"}),
        ("INFO", "app.test:main", "in request", {"request": "r1", "user": "alice"}),
        ("WARNING", "app.test:main", "nested", {"request": "r1", "user": "root", "step": 2}),
        ("DEBUG", "app.test:main.db", "query", {"q": "select"}),
        ("INFO", "app.test:main", "42", {}),
    ]
    assert records[1].getMessage() == "user logged in id=7 user=bob"
    assert records[2].getMessage() == "careful list=[1,2]"


async def test_logger_respects_levels(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="app")
    event = await run_app(
        tmp_path,
        """
        local logger = require("logger")
        return function()
          logger.debug("no")
          logger.info("no")
          print("no")
          logger.warn("yes")
        end
        """,
        modules=["logger"],
    )
    assert event.error is None
    assert [r.getMessage() for r in app_records(caplog)] == ["yes"]


# -- io -----------------------------------------------------------------------------------------


IO_FUNCTIONS = """
local io = require("io")
return function()
  local function r(v, err) return {v == nil, err and err:kind() or false} end
  return {
    write = r(io.write("x")), print = r(io.print("x")), eprint = r(io.eprint("x")),
    flush = r(io.flush()), raw = r(io.raw(true)), read = r(io.read()),
    readline = r(io.readline()), args = r(io.args()),
  }
end
"""


async def test_io_is_unavailable_outside_a_terminal_host(tmp_path: Path) -> None:
    got = await value(tmp_path, IO_FUNCTIONS, modules=["io"])
    assert set(got) == {"write", "print", "eprint", "flush", "raw", "read", "readline", "args"}
    for name, result in got.items():
        assert result == [True, "Unavailable"], name


async def test_io_on_a_terminal_host(tmp_path: Path) -> None:
    stdout, stderr = stdio.BytesIO(), stdio.BytesIO()

    def setup(host: Any) -> None:
        host.terminal_stdin = stdio.BytesIO(b"line1\r\nline2\nrest")
        host.terminal_stdout = stdout
        host.terminal_stderr = stderr
        host.terminal_args = ["a", "b c"]

    got = await value(
        tmp_path,
        """
        local io = require("io")
        return function()
          local function r(v, err) return {v == nil, err and err:kind() or false} end
          local out = {}
          out.write = io.write("a", 1, 2.5, "\\0\\255")
          out.print = io.print("x", nil, true)
          out.eprint = io.eprint("err", 3)
          out.flush = io.flush()
          out.raw = {io.raw(true), io.raw(true), io.raw(false), io.raw(false), io.raw(false)}
          out.raw_bad = r(io.raw("yes"))
          out.line1 = io.readline()
          out.line2 = io.readline()
          out.read2 = io.read(2)
          out.rest = io.read()
          local eof, eof_err = io.read()
          out.eof = {eof == nil, eof_err:message()}
          local eol, eol_err = io.readline()
          out.eol = {eol == nil, eol_err:message()}
          out.read_zero = r(io.read(0))
          out.read_huge = r(io.read(2 ^ 21))
          out.read_str = r(io.read("x"))
          out.args = io.args()
          return out
        end
        """,
        host=TERM,
        setup=setup,
        modules=["io"],
        entries=[TERMINAL_ENTRY],
    )
    assert got["write"] is True and got["print"] is True and got["eprint"] is True
    assert got["flush"] is True
    assert got["raw"] == [True] * 5
    assert got["raw_bad"] == [True, "Invalid"]
    assert stdout.getvalue() == b"a12.5\x00\xffx\tnil\ttrue\n"
    assert stderr.getvalue() == b"err\t3\n"
    assert got["line1"] == "line1" and got["line2"] == "line2"
    assert got["read2"] == "re" and got["rest"] == "st"
    assert got["eof"] == [True, "EOF"] and got["eol"] == [True, "EOF"]
    for name in ("read_zero", "read_huge", "read_str"):
        assert got[name] == [True, "Invalid"], name
    assert got["args"] == ["a", "b c"]


async def test_io_writes_to_sys_stdout_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = await run_app(
        tmp_path,
        """
        local io = require("io")
        return function()
          io.write("hello ")
          io.print("world", 42)
          io.eprint("oops")
          return io.args()
        end
        """,
        host=TERM,
        modules=["io"],
        entries=[TERMINAL_ENTRY],
    )
    assert event.error is None, event.error
    assert event.value == []
    captured = capsys.readouterr()
    assert "hello world\t42\n" in captured.out
    assert "oops\n" in captured.err


async def test_io_read_does_not_block_other_coroutines(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "rb")
    timer = threading.Timer(0.3, lambda: os.write(write_fd, b"typed\n"))

    def setup(host: Any) -> None:
        host.terminal_stdin = stdin
        timer.start()

    try:
        got = await value(
            tmp_path,
            """
            local io = require("io")
            local time = require("time")
            return function()
              local ticks = 0
              coroutine.spawn(function()
                while true do time.sleep("10ms"); ticks = ticks + 1 end
              end)
              local line = io.readline()
              return {line = line, ticks = ticks}
            end
            """,
            host=TERM,
            setup=setup,
            modules=["io", "time"],
            entries=[TERMINAL_ENTRY],
        )
    finally:
        timer.cancel()
        os.close(write_fd)
        stdin.close()
    assert got["line"] == "typed"
    assert got["ticks"] >= 5


async def test_pending_read_does_not_hang_shutdown(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "rb")

    def setup(host: Any) -> None:
        host.terminal_stdin = stdin

    try:
        with anyio.fail_after(8):
            event = await run_app(
                tmp_path,
                """
                local io = require("io")
                return function()
                  coroutine.spawn(function() io.readline() end)
                  local ch = channel.new()
                  coroutine.spawn(function() ch:send(1) end)
                  return ch:receive()
                end
                """,
                host=TERM,
                setup=setup,
                modules=["io"],
                entries=[TERMINAL_ENTRY],
            )
    finally:
        os.close(write_fd)  # ends the abandoned reader thread
    assert event.error is None and event.value == 1


async def test_terminal_host_runs_one_process_at_a_time(tmp_path: Path) -> None:
    app = write_app(
        tmp_path / "app",
        """
        return {main = function()
          local pid, err = process.spawn("test:main", "test:term")
          return {pid = pid, kind = err and err:kind()}
        end}
        """,
        entries=[{"name": "term", "kind": "terminal.host"}],
    )
    event = await run_entry(app, "test:main", host="test:term")
    assert event.error is None, event.error
    assert event.value == {"kind": "Unavailable"}
