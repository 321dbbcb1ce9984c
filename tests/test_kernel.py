"""The Lua kernel (core.lua): processes spawned inside Lua, their relations and their
channels, seen from Python and from other processes.

A process spawned by a Lua process of the same host has no Python record until Python
needs one; these tests make Python need one in each way it can (a send, a name, an exit
waiter, a failure, a shutdown) and check that nothing differs from a process Python made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from actors.host import SpawnRequest
from actors.messages import EXIT, LINK_DOWN, Event, Message
from actors.pid import PID
from actors.python_host import ProcessContext, PythonHost
from actors.runtime import AppRuntime
from lua_bindings.host import LuaHost
from tests.lua_harness import HOST, write_app

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
ENTRIES = [
    {"name": name, "kind": "process.lua", "source": f"file://{name}.lua", "method": "main"}
    for name in ("waiter", "named", "fails")
]
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
