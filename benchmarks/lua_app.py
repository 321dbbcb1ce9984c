"""Shared set-up for the Lua benchmarks: boot `benchmarks/apps/lua` and run one entry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio

from actors.host import SpawnRequest
from actors.messages import Event
from actors.runtime import AppRuntime
from benchmarks.harness import Stopwatch
from lua_bindings import allocator
from lua_bindings.host import LuaHost

APP = Path(__file__).parent / "apps" / "lua"
HOST = "bench:processes"
UNBUDGETED_HOST = "bench:unbudgeted"
"""A host like HOST with the CPU budget off (`cpu_budget: "0s"`)."""
T = TypeVar("T")


async def with_app(body: Callable[[AppRuntime], Awaitable[T]]) -> T:
    runtime = AppRuntime.load(APP)
    async with runtime.node:
        await runtime.start()
        return await body(runtime)


async def on_libc_allocator(measure: Callable[[], Awaitable[T]]) -> T:
    """`measure` with the Lua states it boots on the C library's allocator alone, without
    the cache of small blocks (lua_bindings/allocator.py): what the cache is worth."""
    allocator.enabled = False
    try:
        return await measure()
    finally:
        allocator.enabled = True


async def run_rates(entry: str, count: int, *args: Any) -> tuple[float, float]:
    """`count` per second of wall-clock and CPU time of one run of `entry` (with `args`) on
    HOST, in an app booted for it."""

    async def body(runtime: AppRuntime) -> tuple[float, float]:
        watch = Stopwatch()
        await run(runtime, entry, *args)
        return watch.rates(count)

    return await with_app(body)


async def garbage_bytes(
    runtime: AppRuntime, count: int, work: Callable[[int], Awaitable[object]], host: str = HOST
) -> float:
    """Bytes of Lua garbage `work(count)` leaves on `host` per unit of work: the collector
    is stopped meanwhile, after `work(100)` has made every lazy part. What the collector
    will have to sweep, which is what a crowded host pays for (docs/performance.md, "A
    waiter that serves again"); unlike a rate, it does not drift with the machine."""
    lua_host = runtime.node.host(host)
    assert isinstance(lua_host, LuaHost)
    lua = lua_host.state.runtime
    await work(100)
    lua.execute('collectgarbage("collect"); collectgarbage("stop")')
    try:
        before = lua.eval('collectgarbage("count")')
        await work(count)
        after = lua.eval('collectgarbage("count")')
    finally:
        lua.execute('collectgarbage("restart")')
    return float(after - before) * 1024 / count


async def run(runtime: AppRuntime, entry: str, *args: Any, host: str = HOST) -> Event:
    pid = await runtime.node.spawn(host, SpawnRequest(target=entry, args=args))
    event = await runtime.node.host(host).wait_exit(pid)
    if event.error is not None:
        raise RuntimeError(f"{entry} failed: {event.error}")
    return event


async def until_blocked(runtime: AppRuntime, host: str = HOST) -> None:
    """Wait until no process of `host` is ready (idle processes just spawned have all run
    up to their blocking receive)."""
    lua_host = runtime.node.host(host)
    assert isinstance(lua_host, LuaHost)
    while lua_host.scheduler.busy:
        await anyio.sleep(0.05)
