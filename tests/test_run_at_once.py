"""`actors.run_at_once`: a message delivered while a batch of frames from another node is
applied runs its (sleeping) receiver before the batch returns, with no pass of the event
loop; outside a batch the driver is woken as usual and the receiver runs later."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors import run_at_once
from actors.host import SpawnRequest
from actors.messages import Event
from actors.pid import PID
from actors.runtime import AppRuntime
from lua_bindings.host import LuaHost
from tests.lua_harness import HOST, write_app

pytestmark = pytest.mark.anyio

RECEIVER = """
return {main = function()
  return process.inbox():receive():payload():data()
end}
"""

SPINNER = """
-- After the first message, bounces messages with a partner of its host for ever: both
-- stay ready, turn by turn, without ever leaving the kernel.
return {main = function()
  local inbox = process.inbox()
  inbox:receive()
  local partner = process.spawn("test:echo", "test:processes")
  while true do
    process.send(partner, "ping", process.pid())
    inbox:receive()
  end
end}
"""
ECHO = """
return {main = function()
  local inbox = process.inbox()
  while true do
    process.send(inbox:receive():payload():data(), "pong")
  end
end}
"""
ECHO_ENTRY = {"name": "echo", "kind": "process.lua", "source": "file://echo.lua", "method": "main"}


def drive(work: Coroutine[Any, Any, Any]) -> None:
    """Run a node operation that does not suspend (a send to an in-memory host)."""
    with pytest.raises(StopIteration):
        work.send(None)


async def sleeping_receiver(runtime: AppRuntime) -> tuple[LuaHost, PID, list[Event]]:
    """A receiver blocked in `receive`, its host's driver asleep, and its exits recorded."""
    host = runtime.node.host(HOST)
    assert isinstance(host, LuaHost)
    pid = await runtime.node.spawn(HOST, SpawnRequest(target="test:main"))
    exits: list[Event] = []
    assert host.on_exit(pid, exits.append) is not None
    with anyio.fail_after(10):
        while host.scheduler.busy or host.scheduler._wake is None:
            await anyio.sleep(0.001)
    return host, pid, exits


async def test_a_delivery_in_a_batch_runs_the_receiver_before_the_batch_returns(
    tmp_path: Path,
) -> None:
    runtime = AppRuntime.load(write_app(tmp_path / "app", RECEIVER))
    async with runtime.node:
        await runtime.start()
        host, pid, exits = await sleeping_receiver(runtime)
        with run_at_once.collecting():
            drive(runtime.node.send(None, pid, "m", {"n": 1}))
            assert exits == [], "the receiver runs at the end of the batch, not during it"
        assert [event.value for event in exits] == [{"n": 1}]
        assert not host.scheduler.busy


async def test_a_busy_receiver_runs_one_slice_then_the_driver_takes_over(
    tmp_path: Path,
) -> None:
    app = write_app(tmp_path / "app", SPINNER, files={"echo.lua": ECHO}, entries=[ECHO_ENTRY])
    runtime = AppRuntime.load(app)
    async with runtime.node:
        await runtime.start()
        host, pid, _ = await sleeping_receiver(runtime)
        wake = host.scheduler._wake
        assert wake is not None
        with run_at_once.collecting():
            drive(runtime.node.send(None, pid, "go"))
        # Back from the batch (not stuck running the spinner), with the driver woken to go on.
        assert host.scheduler.busy and wake.is_set()
        await runtime.node.terminate(None, pid)


async def test_outside_a_batch_the_driver_runs_the_receiver_on_a_later_pass(
    tmp_path: Path,
) -> None:
    runtime = AppRuntime.load(write_app(tmp_path / "app", RECEIVER))
    async with runtime.node:
        await runtime.start()
        _, pid, exits = await sleeping_receiver(runtime)
        drive(runtime.node.send(None, pid, "m", {"n": 2}))
        assert exits == []
        with anyio.fail_after(10):
            while not exits:
                await anyio.sleep(0.001)
        assert [event.value for event in exits] == [{"n": 2}]


def test_runs_are_asked_once_and_only_inside_a_batch() -> None:
    calls: list[str] = []

    def run() -> None:
        calls.append("run")

    assert not run_at_once.defer(run)
    with run_at_once.collecting():
        assert run_at_once.defer(run) and run_at_once.defer(run)
        with run_at_once.collecting():  # nested: the outer batch runs it
            assert run_at_once.defer(run)
        assert calls == []
    assert calls == ["run"]


def test_a_batch_collects_only_its_own_threads_runs() -> None:
    """Temporal steps workflows on worker threads: a scheduler poked there while the loop's
    thread applies a batch must wake its own driver, not run on the loop's thread."""
    calls: list[str] = []
    answers: list[bool] = []

    def run() -> None:
        calls.append("run")

    with run_at_once.collecting():
        worker = threading.Thread(target=lambda: answers.append(run_at_once.defer(run)))
        worker.start()
        worker.join()
    assert answers == [False]
    assert calls == []


PINGER = """
-- `n` requests to an echo process of another host, each waiting for its reply.
return {main = function(n)
  local partner = process.spawn("test:echo", "test:other")
  local inbox = process.inbox()
  for _ = 1, n do
    process.send(partner, "ping", process.pid())
    inbox:receive()
  end
  process.terminate(partner)
  return n
end}
"""
OTHER_HOST = {"name": "other", "kind": "process.host"}


async def test_a_reply_from_another_host_needs_no_pass_of_the_event_loop(
    tmp_path: Path,
) -> None:
    """A driver's batch runs the sleeping hosts it made ready before it goes on, as a batch
    of frames does: a request to a process of another host and its reply cross no pass of
    the loop, which is entered only at the end of each slice."""
    app = write_app(
        tmp_path / "app", PINGER, files={"echo.lua": ECHO}, entries=[ECHO_ENTRY, OTHER_HOST]
    )
    runtime = AppRuntime.load(app)
    round_trips = 2000
    passes = 0
    loop = asyncio.get_running_loop()

    def count() -> None:  # runs once per pass of the loop
        nonlocal passes
        passes += 1
        handle[0] = loop.call_soon(count)

    async with runtime.node:
        await runtime.start()
        host = runtime.node.host(HOST)
        pid = await runtime.node.spawn(HOST, SpawnRequest(target="test:main", args=(round_trips,)))
        handle = [loop.call_soon(count)]
        try:
            with anyio.fail_after(30):
                event = await host.wait_exit(pid)
        finally:
            handle[0].cancel()
    assert (event.error, event.value) == (None, round_trips)
    assert passes < round_trips / 4, f"{passes} passes of the loop for {round_trips} replies"
