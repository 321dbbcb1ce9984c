"""The Lua kernel (core.lua): processes spawned inside Lua, their relations and their
channels, seen from Python and from other processes.

A process spawned by a Lua process of the same host has no Python record until Python
needs one; these tests make Python need one in each way it can (a send, a name, an exit
waiter, a failure, a shutdown) and check that nothing differs from a process Python made.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors.host import SpawnRequest
from actors.messages import EXIT, LINK_DOWN, Event, Message
from actors.pid import PID, local_id
from actors.python_host import ProcessContext, PythonHost
from actors.runtime import AppRuntime
from lua_bindings import scheduler
from lua_bindings.host import LuaHost
from tests.lua_harness import ECHO, HOST, lua_entry, run_lua, write_app

pytestmark = pytest.mark.anyio

WAITER = """
-- Waits for one message (returns its payload) or for CANCEL (returns the event's kind).
return {main = function()
  local r = channel.select({process.inbox():case_receive(), process.events():case_receive()})
  if r.channel == process.inbox() then return r.value:payload():data() end
  return r.value.kind
end}
"""
NAMED = """
return {main = function(name)
  process.registry.register(name)
  return process.inbox():receive():payload():data()
end}
"""
FAILS = """
return {main = function() error("child failed") end}
"""
ENTRIES = [lua_entry(name) for name in ("waiter", "named", "fails")]
FILES = {"waiter.lua": WAITER, "named.lua": NAMED, "fails.lua": FAILS}


async def booted(tmp_path: Path, main: str) -> AppRuntime:
    app = write_app(tmp_path / "app", main, files=FILES, entries=ENTRIES)
    return AppRuntime.load(app)


THREE_WAITERS = """
return {main = function()
  -- the first spawn of an entry goes through Python (which compiles it)
  return {process.spawn("test:waiter", "test:processes"),
          process.spawn("test:waiter", "test:processes"),
          process.spawn("test:waiter", "test:processes")}
end}
"""


async def exit_of(runtime: AppRuntime, entry: str, *args: Any) -> Event:
    pid = await runtime.node.spawn(HOST, SpawnRequest(target=entry, args=args))
    with anyio.fail_after(10):
        return await runtime.node.host(HOST).wait_exit(pid)


async def test_python_reaches_a_process_spawned_in_lua(tmp_path: Path) -> None:
    runtime = await booted(
        tmp_path,
        THREE_WAITERS,
    )
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host(HOST)
        assert isinstance(host, LuaHost)
        main = await exit_of(runtime, "test:main")
        compiled, first, second = (PID.parse(pid) for pid in main.value)
        assert host.state.lua_only_count() == 2, "spawned without Python records"
        await runtime.node.send(None, compiled, "bye")
        exits: list[Event] = []
        host.on_exit(first, exits.append)  # adopts `first`: it has a record now
        await runtime.node.send(None, first, "hello", {"n": 1})
        await runtime.node.send(None, second, "hello", {"n": 2})  # still without one
        with anyio.fail_after(10):
            second_exit = await host.wait_exit(second)
        assert exits and exits[0].value == {"n": 1} and exits[0].error is None
        assert second_exit.value == {"n": 2}
        assert len(host.processes) == 0


async def test_a_pid_made_in_lua_is_the_text_python_makes(tmp_path: Path) -> None:
    """The kernel writes the PIDs of its spawns itself (`pid_text`): every digit of the
    counter, a carry through all five, and the switch to longer counters at 0x100000 must
    give the text `actors.pid` gives, incarnation included, or Python would not find the
    process."""
    runtime = await booted(tmp_path, THREE_WAITERS)
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host(HOST)
        assert isinstance(host, LuaHost)
        node = runtime.node
        assert node.incarnation, "the suffix is part of what is checked"
        made: dict[int, str] = {}
        # main spawns three waiters (the first one of the first round through Python,
        # which compiles the entry; the rest in Lua) and returns their PIDs, the last of
        # which has the counter's value
        for before in (0x1FFFC, 0xA5B3C, 0xFFFFD):
            host.state.runtime.execute(
                "local rt, target = ...; while rt.next_counter() < target do end",
                host.state.rt,
                before,
            )
            main = await exit_of(runtime, "test:main")
            last = host.state.rt.next_counter() - 1
            made.update(zip(range(last - 2, last + 1), main.value, strict=True))
        assert {0x1FFFF, 0x20000, 0xA5B3E, 0xA5B3F, 0xFFFFF, 0x100000} <= made.keys()
        for number, text in made.items():
            assert text == str(PID(HOST, local_id(number, node.incarnation), node.name))


async def test_the_kernel_drops_the_context_of_a_process_python_made(tmp_path: Path) -> None:
    """A process with a Python record ends in the call that ran it: Python applies the exit
    the kernel reports (`py.finished`) and the kernel then drops the context itself, so
    Python never calls back into Lua to drop it, whether main returned or raised."""
    runtime = await booted(tmp_path, "return {main = function(n) return n + 1 end}")
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host(HOST)
        assert isinstance(host, LuaHost)
        drops: list[int] = []
        drop = host.state.drop_context
        host.state.drop_context = lambda context: drops.append(context) or drop(context)
        returned = await exit_of(runtime, "test:main", 41)
        failed = await exit_of(runtime, "test:fails")
        assert (returned.value, returned.error) == (42, None)
        assert failed.error is not None and "child failed" in failed.error.message
        assert drops == []
        assert host.state.rt.quiet() is True, "no context left in the state"
        assert not host.by_context and len(host.processes) == 0


async def test_a_monitor_made_in_lua_gets_exit_with_a_private_copy(tmp_path: Path) -> None:
    runtime = await booted(
        tmp_path,
        """
        return {main = function()
          local events = process.events()
          local child = process.spawn_monitored("test:waiter", "test:processes")
          local shared = {list = {1, 2}}
          process.send(child, "m", shared)
          local ev = events:receive()
          ev.result.value.list[1] = "changed"  -- our copy only
          return {kind = ev.kind, from_child = ev.from == child,
                  value = ev.result.value, at = ev.at ~= nil, shared = shared.list[1]}
        end}
        """,
    )
    async with runtime.node:
        await runtime.start()
        main = await exit_of(runtime, "test:main")
    assert main.error is None, main.error
    assert main.value == {
        "kind": EXIT,
        "from_child": True,
        "value": {"list": ["changed", 2]},
        "at": True,
        "shared": 1,
    }


async def test_a_child_spawned_in_lua_that_fails_is_trapped_or_cascades(tmp_path: Path) -> None:
    runtime = await booted(
        tmp_path,
        """
        return {main = function(trap)
          process.set_options({trap_links = trap})
          local events = process.events()
          local child = process.spawn_linked("test:fails", "test:processes")
          local ev = events:receive()
          return {kind = ev.kind, from_child = ev.from == child,
                  message = tostring(ev.result.error)}
        end}
        """,
    )
    async with runtime.node:
        await runtime.start()
        trapped = await exit_of(runtime, "test:main", True)
        cascaded = await exit_of(runtime, "test:main", False)
    assert trapped.error is None, trapped.error
    assert trapped.value["kind"] == LINK_DOWN and trapped.value["from_child"] is True
    assert "child failed" in trapped.value["message"]
    assert cascaded.error is not None and "linked process failed" in cascaded.error.message


async def test_a_link_made_in_lua_cascades_to_a_child_python_adopted(tmp_path: Path) -> None:
    runtime = await booted(
        tmp_path,
        """
        return {main = function()
          process.spawn_linked("test:named", "test:processes", "kid")
          process.inbox():receive()
          error("parent failed")
        end}
        """,
    )
    async with runtime.node:
        await runtime.start()
        node = runtime.node
        host = node.host(HOST)
        main = await node.spawn(HOST, SpawnRequest(target="test:main"))
        with anyio.fail_after(10):
            while True:  # the child registers its name (which gives it a record)
                try:
                    kid = node.lookup("kid")
                    break
                except Exception:
                    await anyio.sleep(0.001)
            await node.send(None, main, "go")
            kid_exit = await host.wait_exit(kid)
    assert kid_exit.error is not None and "linked process failed" in kid_exit.error.message


async def test_shutdown_reaches_processes_spawned_in_lua(tmp_path: Path) -> None:
    runtime = await booted(
        tmp_path,
        """
        return {main = function(n)
          for _ = 1, n do process.spawn("test:waiter", "test:processes") end
          return n
        end}
        """,
    )
    with anyio.fail_after(10):
        async with runtime.node:
            await runtime.start()
            host = runtime.node.host(HOST)
            await exit_of(runtime, "test:main", 50)
            assert len(host.processes) == 50
        # the shutdown's CANCEL ended them all (well before the grace period)
    assert len(host.processes) == 0


async def test_a_process_cannot_reach_its_channels_state(tmp_path: Path) -> None:
    runtime = await booted(
        tmp_path,
        """
        return {main = function()
          local inbox = process.inbox()
          local fields = {}
          for k in next, inbox do fields[#fields + 1] = k end
          rawset(inbox, "recv", 42)  -- its own table: no effect on the channel
          process.send(process.pid(), "t", "still delivered")
          return {fields = #fields, got = inbox:receive():payload():data()}
        end}
        """,
    )
    async with runtime.node:
        await runtime.start()
        main = await exit_of(runtime, "test:main")
    assert main.error is None, main.error
    assert main.value == {"fields": 0, "got": "still delivered"}


async def test_a_python_message_wakes_a_blocked_lua_receiver(tmp_path: Path) -> None:
    runtime = await booted(
        tmp_path,
        """
        return {main = function()
          local r = channel.select({process.listen("a"):case_receive(),
                                    process.inbox():case_receive()})
          return r.value
        end}
        """,
    )
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host(HOST)
        pid = await runtime.node.spawn(HOST, SpawnRequest(target="test:main"))
        await anyio.sleep(0.01)  # blocked in select by now
        await host.send(pid, Message("a", {"from": "python"}))
        with anyio.fail_after(10):
            event = await host.wait_exit(pid)
    assert event.error is None and event.value == {"from": "python"}


async def test_a_python_process_monitors_and_links_processes_spawned_in_lua(
    tmp_path: Path,
) -> None:
    runtime = await booted(
        tmp_path,
        THREE_WAITERS,
    )
    got: list[Event] = []

    async def watcher(ctx: ProcessContext, child: str, other: str) -> None:
        ctx.trap_links = True
        await ctx.monitor(child)
        await ctx.link(other)
        await ctx.send(child, "m", "bye")
        got.append(await ctx.next_event())  # the child's EXIT
        await ctx.terminate(other)
        got.append(await ctx.next_event())  # the linked one failed: LINK_DOWN, trapped

    async with runtime.node:
        await runtime.start()
        python = runtime.node.add_host(PythonHost("test:python"))
        main = await exit_of(runtime, "test:main")
        compiled, child, other = main.value
        await runtime.node.send(None, compiled, "bye")
        pid = await python.spawn(SpawnRequest(watcher, (child, other)))
        with anyio.fail_after(10):
            event = await python.wait_exit(pid)
    assert event.error is None, event.error
    assert [(e.kind, str(e.source)) for e in got] == [(EXIT, child), (LINK_DOWN, other)]
    assert got[0].value == "bye"
    assert got[1].error is not None and got[1].error.message == "process terminated"


async def test_process_pid_is_the_pid_python_knows(tmp_path: Path) -> None:
    runtime = await booted(
        tmp_path,
        """
        return {main = function()
          local events = process.events()
          local child = process.spawn_monitored("test:named", "test:processes", "twin")
          process.send(child, "m", "x")
          events:receive()
          return {me = process.pid(), child = child}
        end}
        """,
    )
    async with runtime.node:
        await runtime.start()
        pid = await runtime.node.spawn(HOST, SpawnRequest(target="test:main"))
        with anyio.fail_after(10):
            event = await runtime.node.host(HOST).wait_exit(pid)
    assert event.error is None, event.error
    assert event.value["me"] == str(pid)
    assert PID.parse(event.value["child"]).host == HOST


# -- main tasks in pooled coroutines, spawn bookkeeping off the count hook ---------------

POOL_FILES = {
    "leaker.lua": """
        return {main = function(depth)
          leaked_global = "secret"
          string.leak = "secret"
          local function deep(n)
            local a, b = "secret", {n}
            if n == 0 then return 0 end
            return deep(n - 1) + #a + #b
          end
          deep(depth)
          return "done"
        end}
        """,
    "snooper.lua": """
        local at_load = leaked_global
        return {main = function(...)
          return {nargs = select("#", ...), global = leaked_global, at_load = at_load,
                  raw = rawget(_G, "leaked_global"), string_leak = string.leak}
        end}
        """,
    "spinner.lua": "return {main = function() while true do end end}",
    "plain.lua": "return {main = function() return 1 end}",
    "exposer.lua": """
        return {main = function() return coroutine.status(coroutine.running()) end}
        """,
    "requester.lua": """
        return {main = function(parent)
          local w = process.spawn("test:waiter", "test:processes")  -- compiles the entry
          process.send(w, "m", 1)
          local fn_pid, fn_err = process.spawn("test:waiter", "test:processes", function() end)
          local cycle = {}
          cycle.self = cycle
          local cycle_pid, cycle_err = process.spawn("test:waiter", "test:processes", cycle)
          process.send(parent, "errors", {fn = fn_pid == nil and tostring(fn_err),
                                          cycle = cycle_pid == nil and tostring(cycle_err)})
          while true do end
        end}
        """,
    "echoarg.lua": """
        return {main = function(...)
          local t, n = ...
          local before = t.list[1]
          t.list[1] = "child"
          return {before = before, n = n, nargs = select("#", ...)}
        end}
        """,
    "requirer.lua": """
        return {main = function(strict)
          if strict then
            setmetatable(_G, {__index = function(_, k) error("undefined global " .. k, 2) end})
          end
          local time = require("time")
          local ok, err = pcall(require, "sql")
          return {time = time ~= nil, same = require("time") == time,
                  refused = not ok and tostring(err)}
        end}
        """,
}
POOL_ENTRIES = [
    lua_entry(name)
    for name in ("leaker", "snooper", "spinner", "plain", "exposer", "requester", "echoarg")
] + [lua_entry("requirer", modules=["time"])]


async def pooled_app(tmp_path: Path, main: str) -> AppRuntime:
    app = write_app(
        tmp_path / "app",
        main,
        files={**FILES, **POOL_FILES},
        entries=ENTRIES + POOL_ENTRIES,
        host_options={"cpu_budget": "100ms"},
    )
    return AppRuntime.load(app)


def pool_stats(runtime: AppRuntime) -> tuple[int, int]:
    """(idle coroutines in the kernel's pool, main tasks that took one so far)."""
    host = runtime.node.host(HOST)
    assert isinstance(host, LuaHost)
    idle, reused = host.state.rt.pool_stats()
    return int(idle), int(reused)


async def test_a_pooled_coroutine_shows_the_next_process_nothing_of_the_last(
    tmp_path: Path,
) -> None:
    runtime = await pooled_app(
        tmp_path,
        """
        return {main = function()
          local events = process.events()
          local seen = {}
          -- the first spawn of each entry goes through Python, the second is made in Lua;
          -- each snooper takes the coroutine its leaker gave back (the pool is a stack)
          for i = 1, 2 do
            process.spawn_monitored("test:leaker", "test:processes", 200)
            events:receive()
            process.spawn_monitored("test:snooper", "test:processes")
            seen[i] = events:receive().result.value
          end
          -- a reused coroutine still carries the CPU budget's hook
          process.spawn_monitored("test:spinner", "test:processes")
          local ev = events:receive()
          return {seen = seen, spinner = ev.result.error and ev.result.error:kind()}
        end}
        """,
    )
    async with runtime.node:
        await runtime.start()
        main = await exit_of(runtime, "test:main")
        _, reused = pool_stats(runtime)
    assert main.error is None, main.error
    assert main.value == {"seen": [{"nargs": 0}, {"nargs": 0}], "spinner": "Timeout"}
    assert reused >= 4  # the two snoopers, the second leaker and the spinner


async def test_a_coroutine_app_code_held_or_that_failed_is_not_pooled(tmp_path: Path) -> None:
    runtime = await pooled_app(tmp_path, "return {main = function() return 0 end}")
    async with runtime.node:
        await runtime.start()
        await exit_of(runtime, "test:plain")  # leaves one idle coroutine
        idle, _ = pool_stats(runtime)
        assert idle >= 1
        await exit_of(runtime, "test:plain")
        assert pool_stats(runtime)[0] == idle  # taken and given back
        exposed = await exit_of(runtime, "test:exposer")
        assert exposed.value == "running"
        assert pool_stats(runtime)[0] == idle - 1  # taken, kept out: the process held it
        failed = await exit_of(runtime, "test:fails")
        assert failed.error is not None
        assert pool_stats(runtime)[0] == max(idle - 2, 0)


async def test_a_spawn_that_fails_in_the_kernel_leaves_the_budget_on(tmp_path: Path) -> None:
    runtime = await pooled_app(
        tmp_path,
        """
        return {main = function()
          local events = process.events()
          process.spawn_monitored("test:requester", "test:processes", process.pid())
          local errors = process.inbox():receive():payload():data()
          local ev = events:receive()
          return {errors = errors, kind = ev.result.error and ev.result.error:kind()}
        end}
        """,
    )
    async with runtime.node:
        await runtime.start()
        main = await exit_of(runtime, "test:main")
    assert main.error is None, main.error
    assert "function" in main.value["errors"]["fn"]
    assert "cycle" in main.value["errors"]["cycle"]
    assert main.value["kind"] == "Timeout"  # the requester's hook came back on


async def test_require_is_made_on_first_use_for_its_own_process(tmp_path: Path) -> None:
    runtime = await pooled_app(
        tmp_path,
        """
        return {main = function()
          local events = process.events()
          local seen = {}
          -- Python makes the first, the kernel the next two; the last replaces its
          -- environment's metatable before its first `require`
          for i, strict in ipairs({false, false, true}) do
            process.spawn_monitored("test:requirer", "test:processes", strict)
            local ev = events:receive()
            seen[i] = ev.result.value or tostring(ev.result.error)
          end
          return seen
        end}
        """,
    )
    async with runtime.node:
        await runtime.start()
        main = await exit_of(runtime, "test:main")
    assert main.error is None, main.error
    for seen in main.value:
        assert seen["time"] is True and seen["same"] is True, seen
        assert "not allowed" in seen["refused"], seen


async def test_a_spawn_in_the_kernel_copies_its_arguments_when_it_is_made(
    tmp_path: Path,
) -> None:
    runtime = await pooled_app(
        tmp_path,
        """
        return {main = function()
          local events = process.events()
          local out = {}
          for i = 1, 2 do  -- Python makes the first child, the kernel the second
            local arg = {list = {1, 2}}
            process.spawn_monitored("test:echoarg", "test:processes", arg, 7)
            arg.list[1] = "parent"  -- before the child runs: it must not see this
            out[i] = {child = events:receive().result.value, mine = arg.list[1]}
          end
          return out
        end}
        """,
    )
    async with runtime.node:
        await runtime.start()
        main = await exit_of(runtime, "test:main")
    assert main.error is None, main.error
    expected = {"child": {"before": 1, "n": 7, "nargs": 2}, "mine": "parent"}
    assert main.value == [expected, expected]


IDLE = "return {main = function() return process.inbox():receive() end}"
IDLE_SPAWNER = """
return {main = function(n)
  for _ = 1, n do process.spawn("test:idle", "test:processes") end
  return n
end}
"""


async def test_an_idle_process_spawned_in_lua_costs_little_lua_memory(tmp_path: Path) -> None:
    """Blocked on its inbox, a process spawned in Lua holds about 2 900 bytes of the host's
    Lua memory (2026-12-06). Its coroutine keeps the stack it was made with: the lazy
    lookup of `process` once reached one register deeper, and the C call below it grew
    every idle process's stack from 40 to 80 slots (640 bytes more each, lua_idle_memory);
    a mailbox that is only read has no listener tables (two tables more each)."""
    app = write_app(
        tmp_path / "app",
        IDLE_SPAWNER,
        files={"idle.lua": IDLE},
        entries=[{"name": "idle", "kind": "process.lua", "source": "file://idle.lua"}],
    )
    runtime = AppRuntime.load(app)
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host(HOST)
        assert isinstance(host, LuaHost)
        lua = host.state.runtime

        def used() -> float:
            lua.execute("collectgarbage('collect')")
            return float(lua.eval("collectgarbage('count')")) * 1024

        await exit_of(runtime, "test:main", 1)  # the first spawn of an entry goes through Python
        before = used()
        count = 1000
        spawner = await exit_of(runtime, "test:main", count)
        assert spawner.value == count
        while host.scheduler.busy:
            await anyio.sleep(0.01)
        assert host.state.lua_only_count() == count
        per_process = (used() - before) / count
    assert 2000 < per_process < 3300, per_process


async def test_a_process_task_that_yields_gets_an_error_not_a_hang(tmp_path: Path) -> None:
    # A bare coroutine.yield in a process's own task would reach the kernel, which has
    # nothing to resume it with: an error at the call, as in a plain Lua main thread.
    event = await run_lua(
        tmp_path,
        """
        return {main = function()
          local out = {}
          out.main_yieldable = coroutine.isyieldable()
          local ok, err = pcall(coroutine.yield, "x")
          out.main = not ok and tostring(err):find("outside a coroutine") ~= nil
          local done = channel.new(1)
          coroutine.spawn(function()
            local ok2, err2 = pcall(coroutine.yield)
            done:send(not ok2 and tostring(err2):find("outside a coroutine") ~= nil)
          end)
          out.spawned = done:receive()
          local co = coroutine.wrap(function()
            coroutine.yield(coroutine.isyieldable())
            return "finished"
          end)
          out.user = {co(), co()}
          return out
        end}
        """,
    )
    assert event.error is None, event.error
    assert event.value == {
        "main_yieldable": False,
        "main": True,
        "spawned": True,
        "user": [True, "finished"],
    }
    failed = await run_lua(
        tmp_path / "uncaught", "return {main = function() coroutine.yield() end}"
    )
    assert failed.error is not None and "outside a coroutine" in failed.error.message


@pytest.fixture
def fails_if_the_host_stalls(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """A kernel that never returns holds the event loop, so no anyio timeout can fire: past
    60 s, print every thread's stack to the real stderr (pytest's capture is lost on exit)
    and end the run: a failure, not a CI job hung for its whole allowance."""
    with capsys.disabled():
        stderr = os.fdopen(os.dup(2), "w")
    faulthandler.dump_traceback_later(60, exit=True, file=stderr)
    yield
    faulthandler.cancel_dump_traceback_later()
    stderr.close()


@pytest.mark.usefixtures("fails_if_the_host_stalls")
async def test_tasks_that_keep_each_other_ready_leave_room_for_timers_and_others(
    tmp_path: Path,
) -> None:
    # Two tasks of one process bounce on channels forever; the host must still fire the
    # process's own timer and run another process (it used to spin in that one process).
    event = await run_lua(
        tmp_path,
        """
        local time = require("time")
        return {main = function()
          process.spawn("test:pinger", "test:processes", process.pid())
          local a, b = channel.new(), channel.new()
          coroutine.spawn(function() while true do a:send(1); b:receive() end end)
          local deadline = time.timer("300ms")
          local inbox = process.inbox()
          local n, heard = 0, nil
          while true do
            local r = channel.select({a:case_receive(), deadline:channel():case_receive(),
                                      inbox:case_receive()})
            if r.channel == deadline:channel() then return {n > 100, heard} end
            if r.channel == inbox then heard = r.value:payload():data()
            else
              n = n + 1
              b:send(1)
            end
          end
        end}
        """,
        modules=["time"],
        files={
            "pinger.lua": """
            local time = require("time")
            return {main = function(parent)
              time.sleep("20ms")
              process.send(parent, "hi", "from another process")
            end}
            """
        },
        entries=[lua_entry("pinger", modules=["time"])],
        timeout=5,
    )
    assert event.error is None, event.error
    assert event.value == [True, "from another process"]


PING = """
local time = require("time")
return {main = function(target, n)
  time.sleep("20ms")  -- the test waits for this process's exit before it gets busy
  local inbox = process.inbox()
  for i = 1, n do
    process.send(target, "ping", i)
    inbox:receive()
  end
  process.send(target, "stop")
  return n
end}
"""
SLEEPER = """
local time = require("time")
return {main = function()
  for _ = 1, 5 do time.sleep("10ms") end
  return "slept"
end}
"""


@pytest.mark.usefixtures("fails_if_the_host_stalls")
async def test_a_busy_host_lets_the_timer_of_another_host_fire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hosts of a node share its event loop. With slices so long that a busy host would
    # keep the loop until its work is done, a sleep on another host must still end while
    # the busy host works: the busy host wakes the sleeping host and lets the loop run when
    # the other's timer is due.
    monkeypatch.setattr(scheduler, "_SLICE", 60.0)
    busy = "test:busy"
    app = write_app(
        tmp_path / "app",
        SLEEPER,
        modules=["time"],
        files={"echo.lua": ECHO, "ping.lua": PING},
        entries=[
            {"name": "busy", "kind": "process.host"},
            lua_entry("echo"),
            lua_entry("ping", modules=["time"]),
        ],
    )
    runtime = AppRuntime.load(app)
    node = runtime.node
    exits: dict[str, Event] = {}

    async def record_exit(name: str, host: str, pid: PID) -> None:
        exits[name] = await node.host(host).wait_exit(pid)

    async with node:
        await runtime.start()
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:  # until both exits are recorded
                sleeper = await node.spawn(HOST, SpawnRequest(target="test:main"))
                tg.start_soon(record_exit, "slept", HOST, sleeper)
                host = node.host(HOST)
                assert isinstance(host, LuaHost)
                waiting = scheduler._NEXT_TIMERS.setdefault(asyncio.get_running_loop(), {})
                while host.scheduler not in waiting:  # until the sleeper's host sleeps on its timer
                    await anyio.sleep(0.001)
                echo = await node.spawn(busy, SpawnRequest(target="test:echo"))
                ping = SpawnRequest(target="test:ping", args=(str(echo), 200_000))
                tg.start_soon(record_exit, "pinged", busy, await node.spawn(busy, ping))
    slept, pinged = exits["slept"], exits["pinged"]
    assert slept.error is None, slept.error
    assert (slept.value, pinged.value) == ("slept", 200_000)
    assert slept.at < pinged.at  # the sleeper did not wait for the busy host to finish


@pytest.mark.usefixtures("fails_if_the_host_stalls")
async def test_app_code_cannot_resume_or_close_its_own_task(tmp_path: Path) -> None:
    # coroutine.running() hands a task its own coroutine; resuming it from another task ran
    # the parked task out of turn and hung the host.
    event = await run_lua(
        tmp_path,
        """
        return {main = function()
          local me = coroutine.running()
          local ch = channel.new()
          coroutine.spawn(function()
            local ok1, err1 = pcall(coroutine.resume, me, "forged")
            local ok2, err2 = pcall(coroutine.close, me)
            ch:send({ok1, tostring(err1):match("cannot resume a process's own task") ~= nil,
                     ok2, tostring(err2):match("cannot close a process's own task") ~= nil})
          end)
          local got = ch:receive()
          got[5] = coroutine.status(me)
          return got
        end}
        """,
        timeout=5,
    )
    assert event.error is None, event.error
    assert event.value == [False, True, False, True, "running"]
