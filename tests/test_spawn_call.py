"""`Node.spawn_call`: a process spawned for a caller outside the node's processes (a
Temporal activity, `funcs.call`) that waits for its exit. On a Lua host a call with only a
target and arguments is made in Lua without a Python record (`rt.call` in core.lua); its
outcome must be the one the ordinary spawn gives, whatever the function does, whether the
call runs when the host next runs or `at_once`, in the call that makes it (`rt.call_run`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors import errors, run_at_once
from actors.host import SpawnRequest
from actors.messages import Event
from actors.pid import PID
from actors.runtime import AppRuntime
from lua_bindings.host import LuaHost
from tests.lua_harness import HOST, write_app

pytestmark = pytest.mark.anyio

FUNCTIONS = """
local function echo(...) return ... end
return {
  main = function(kind, arg)
    if kind == "value" then return arg end
    if kind == "table" then return {n = arg, list = {1, 2, {deep = true}}} end
    if kind == "pid" then return process.pid() end
    if kind == "fails" then return nil, "it failed: " .. tostring(arg) end
    if kind == "raises" then error("raised " .. tostring(arg)) end
    if kind == "function" then return echo end
    if kind == "receives" then return process.inbox():receive():payload():data() end
    if kind == "spawns" then
      local child = process.spawn_monitored("test:main", "test:processes", "value", arg)
      local event = process.events():receive()
      return {child = child, got = event.result.value}
    end
    error("unknown kind " .. tostring(kind))
  end,
}
"""


class Calls:
    """A booted app and the outcomes of the calls made on it."""

    def __init__(self, runtime: AppRuntime, at_once: bool) -> None:
        self.runtime = runtime
        self.at_once = at_once
        host = runtime.node.host(HOST)
        assert isinstance(host, LuaHost)
        self.host = host
        self.events: dict[PID, list[Event]] = {}

    def start(self, *args: Any, **request: Any) -> PID:
        """Spawn `test:main` with `args` for a caller, the way an activity does."""
        outcome: list[Event] = []
        with run_at_once.collecting():
            pid, _ = self.runtime.node.spawn_call(
                HOST,
                SpawnRequest(target="test:main", args=args, **request),
                outcome.append,
                at_once=self.at_once,
            )
        self.events[pid] = outcome
        return pid

    async def exit_of(self, pid: PID) -> Event:
        with anyio.fail_after(10):
            while not self.events[pid]:
                await anyio.sleep(0.001)
        [event] = self.events[pid]
        return event

    async def settle(self) -> None:
        with anyio.fail_after(10):
            while self.host.scheduler.busy or self.host.scheduler._wake is None:
                await anyio.sleep(0.001)


@contextlib.asynccontextmanager
async def calls_on(tmp_path: Path, at_once: bool = False, **app: Any) -> AsyncIterator[Calls]:
    """An app of FUNCTIONS, booted, for calls (made `at_once` or not)."""
    runtime = AppRuntime.load(write_app(tmp_path / "app", FUNCTIONS, **app))
    async with runtime.node:
        await runtime.start()
        yield Calls(runtime, at_once)


AT_ONCE = pytest.mark.parametrize("at_once", [False, True], ids=["when the host runs", "at once"])


@AT_ONCE
async def test_a_function_that_returns_runs_without_a_python_record(
    tmp_path: Path, at_once: bool
) -> None:
    async with calls_on(tmp_path, at_once) as calls:
        await calls.settle()
        pid = calls.start("value", 41)
        event = await calls.exit_of(pid)
        assert (event.source, event.value, event.error) == (pid, 41, None)
        assert calls.host.processes.known(pid) is None, "never adopted"
        assert calls.host.state.lua_only_count() == 0
        assert pid not in calls.host._exit_waiters
        # the PID the caller got is the one the process has
        pid = calls.start("pid")
        assert (await calls.exit_of(pid)).value == str(pid)


@AT_ONCE
async def test_a_table_result_is_the_callers_own_copy(tmp_path: Path, at_once: bool) -> None:
    async with calls_on(tmp_path, at_once) as calls:
        event = await calls.exit_of(calls.start("table", 3))
        assert event.error is None
        assert event.value == {"n": 3, "list": [1, 2, {"deep": True}]}


@AT_ONCE
@pytest.mark.parametrize(
    ("kind", "kind_of_error", "message"),
    [
        ("fails", errors.UNKNOWN, "it failed: 7"),
        ("raises", errors.INTERNAL, "raised 7"),
        ("function", errors.INVALID, "cannot be sent"),
    ],
)
async def test_a_failure_reaches_the_caller_as_the_ordinary_spawn_reports_it(
    tmp_path: Path, kind: str, kind_of_error: str, message: str, at_once: bool
) -> None:
    async with calls_on(tmp_path, at_once) as calls:
        fast = await calls.exit_of(calls.start(kind, 7))
        # the same call with a context value takes the ordinary spawn
        slow = await calls.exit_of(calls.start(kind, 7, context={"k": "v"}))
        for event in (fast, slow):
            assert event.value is None
            assert event.error is not None
            assert event.error.kind == kind_of_error
            assert message in event.error.message
        assert fast.error == slow.error
        assert calls.host.state.lua_only_count() == 0


@AT_ONCE
async def test_a_function_that_blocks_answers_when_it_returns(
    tmp_path: Path, at_once: bool
) -> None:
    async with calls_on(tmp_path, at_once) as calls:
        pid = calls.start("receives")
        await calls.settle()
        assert calls.events[pid] == [], "still waiting for its message"
        assert calls.host.processes.known(pid) is None
        await calls.runtime.node.send(None, pid, "in", {"x": [1, 2]})
        assert (await calls.exit_of(pid)).value == {"x": [1, 2]}


@AT_ONCE
async def test_a_call_spawns_and_watches_children_in_lua(tmp_path: Path, at_once: bool) -> None:
    async with calls_on(tmp_path, at_once) as calls:
        pid = calls.start("spawns", "hi")
        event = await calls.exit_of(pid)
        assert event.error is None
        assert event.value["got"] == "hi"
        assert PID.parse(event.value["child"]).host == HOST
        assert calls.host.state.lua_only_count() == 0


@AT_ONCE
async def test_terminating_a_blocked_call_reports_it_once(tmp_path: Path, at_once: bool) -> None:
    async with calls_on(tmp_path, at_once) as calls:
        pid = calls.start("receives")
        await calls.settle()
        await calls.runtime.node.terminate(None, pid)
        event = await calls.exit_of(pid)
        assert event.error is not None and event.error.kind == errors.CANCELED
        await calls.settle()
        assert len(calls.events[pid]) == 1


async def test_a_withdrawn_callback_is_not_called(tmp_path: Path) -> None:
    async with calls_on(tmp_path) as calls:
        told: list[Event] = []
        with run_at_once.collecting():
            pid, withdraw = calls.runtime.node.spawn_call(
                HOST, SpawnRequest(target="test:main", args=("receives",)), told.append
            )
            withdraw()
        watched = calls.start("value", 1)  # a later call is told as usual
        await calls.exit_of(watched)
        await calls.runtime.node.send(None, pid, "in", 5)
        event = await calls.runtime.node.wait_exit(pid)  # adopts it; exits when it has run
        assert (event.value, event.error) == (5, None)
        with anyio.fail_after(10):
            while calls.host.is_alive(pid):
                await anyio.sleep(0.001)
        assert told == []


async def test_a_host_with_a_process_limit_takes_the_ordinary_spawn(tmp_path: Path) -> None:
    async with calls_on(tmp_path, host_options={"max_processes": 5}) as calls:
        pid = calls.start("receives")
        assert calls.host.processes.known(pid) is not None, "a Python record, counted"
        await calls.runtime.node.send(None, pid, "in", "ok")
        assert (await calls.exit_of(pid)).value == "ok"


async def test_stopping_the_host_ends_a_blocked_call(tmp_path: Path) -> None:
    async with calls_on(tmp_path) as calls:
        pid = calls.start("receives")
        await calls.settle()
        await calls.host.stop(0)
        event = await calls.exit_of(pid)
        assert event.error is not None


async def test_a_host_that_cannot_call_says_so(tmp_path: Path) -> None:
    async with calls_on(tmp_path) as calls:
        with pytest.raises(errors.ActorError, match=r"not found|cannot run function calls"):
            calls.runtime.node.spawn_call("test:nowhere", SpawnRequest(target="test:main"), print)


@pytest.mark.parametrize("context", [{}, {"user": "ann"}], ids=["in Lua", "ordinary spawn"])
async def test_a_call_to_a_missing_entry_fails_at_once_and_the_host_goes_on(
    tmp_path: Path, context: dict[str, Any]
) -> None:
    async with calls_on(tmp_path) as calls:
        with pytest.raises(errors.ActorError, match="test:missing") as raised:
            calls.runtime.node.spawn_call(
                HOST, SpawnRequest(target="test:missing", context=context), print
            )
        assert raised.value.error.kind == errors.NOT_FOUND
        pid = calls.start("value", 7, context=context)
        assert (await calls.exit_of(pid)).value == 7


async def test_a_call_at_once_has_run_when_the_spawn_returns(tmp_path: Path) -> None:
    """On a host whose driver sleeps, an `at_once` call is made and run in one call into
    Lua: a function that returns has reported its exit before `spawn_call` returns, one
    that fails has too (Python adopted it during that run and its waiter was in place), and
    one that blocks answers later, as any call does. While the host's driver runs, or a
    timer of the host is due, the call waits for the host's run instead."""
    async with calls_on(tmp_path, at_once=True) as calls:
        await calls.settle()
        runs: list[int] = []
        run = calls.host.state.run
        calls.host.state.run = lambda budget: runs.append(budget) or run(budget)  # type: ignore[method-assign]
        returned, failed = calls.start("value", 3), calls.start("raises", 4)
        assert [e.value for e in calls.events[returned]] == [3]
        [failure] = calls.events[failed]
        assert failure.error is not None and "raised 4" in failure.error.message
        assert runs == [], "no call into Lua of its own to run them"
        blocked = calls.start("receives")
        assert calls.events[blocked] == []
        await calls.runtime.node.send(None, blocked, "in", "late")
        assert (await calls.exit_of(blocked)).value == "late"
        await calls.settle()
        runs.clear()
        fired: list[int] = []
        calls.host.scheduler.call_at(0, lambda: fired.append(len(runs)))  # due already
        deferred = calls.start("value", 5)
        assert (await calls.exit_of(deferred)).value == 5
        assert fired == [0] and runs, "its timer fired first, then the host ran the call"
        assert calls.host.state.lua_only_count() == 0
