"""The Python half of a host's scheduler: timers, the event loop, and the Lua kernel's runs.

The run queue lives in Lua (core.lua, "The kernel"): processes whose tasks are ready are
resumed there, and a message, a channel hand-off or a coroutine switch between processes of
the host never enters Python. The driver here calls `rt.run(budget)` in batches until the
host is quiescent, fires due timers between batches and visits the event loop every few
milliseconds of work (or at once when another host's timer is due), then sleeps until
something makes a task ready or a timer is due. A sleeping host that a batch made ready
(a message from another host) runs at that batch's end (`actors.run_at_once`).

A task blocked on Python (a timer, an async operation, a module call) is a `Waiter`:
whoever can answer it calls `fire(values)` exactly once, which makes the task ready in Lua.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
import weakref
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from actors.run_at_once import collecting, defer
from lua_bindings.channels import KERNEL

if TYPE_CHECKING:
    from actors.registry import Entry
    from lua_bindings.process import LuaProcess
    from lua_bindings.state import CallRun, LuaState

log = logging.getLogger(__name__)

_BATCH = 64
"""Processes the kernel runs per call (between two looks at the clock)."""
_SLICE = 0.002
"""Seconds of running processes between two visits to the event loop (I/O, other tasks):
a busy host batches its work (quiescence batching) without starving anything. Timers are
fired between batches too, so a 1 ms timer is late by about one batch, not one slice."""

_NEXT_TIMERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Scheduler, float]] = (
    weakref.WeakKeyDictionary()
)
"""Per event loop, the next timer of each host's driver that is not running now (asleep, or
waiting for its turn). A busy driver looks at it after each batch and lets the loop run as
soon as another host's timer is due, instead of at the end of its slice: the hosts of a
node share one event loop, and a timer would otherwise wait for every busy host's slice."""

_AS_IS = frozenset({int, bool, float, type(None), bytes})
"""Values a resumed task gets that lupa passes to Lua unchanged."""


def lua_values(state: LuaState, values: Iterable[Any]) -> list[Any]:
    """`values` as a resumed task gets them: scalars as they are, the rest made Lua values
    in `state`."""
    to_lua = state.to_lua
    return [v if type(v) in _AS_IS else to_lua(v) for v in values]


class Waiter:
    """One task blocked on Python. `fire` makes it ready with values; later fires are
    ignored."""

    __slots__ = ("done", "process", "scheduler", "task")

    def __init__(self, scheduler: Scheduler, process: LuaProcess, task: int) -> None:
        self.scheduler = scheduler
        self.process = process
        self.task = task
        self.done = False

    def fire(self, *values: Any) -> bool:
        if self.done:
            return False
        self.done = True
        self.scheduler.resume(self.process, self.task, values)
        return True

    @property
    def live(self) -> bool:
        return not self.done and self.process.alive


class Scheduler:
    def __init__(self, name: str) -> None:
        self.name = name
        self.state: LuaState | None = None
        self.processes: dict[int, LuaProcess] = {}
        """The host's live processes by Lua context number."""
        self._timers: list[list[Any]] = []
        """[deadline, sequence, action, urgent] entries; `cancel_timer` clears the action."""
        self._timer_seq = itertools.count()
        self._wake: anyio.Event | None = None
        self._spawn_async: Callable[..., None] | None = None

    def attach(self, state: LuaState, processes: dict[int, LuaProcess]) -> None:
        """The host's Lua state, whose kernel this scheduler drives."""
        self.state = state
        self.processes = processes
        state.on_ready = self.poke

    def _kernel(self) -> LuaState:
        assert self.state is not None, "the scheduler has no Lua state"
        return self.state

    @property
    def busy(self) -> bool:
        """Whether some process has work queued (benchmarks wait for this to settle)."""
        return self.state is not None and self.state.ready_count() > 0

    @property
    def current(self) -> LuaProcess | None:
        """The process whose code runs now (module functions are called from it)."""
        if self.state is None:
            return None
        context, _ = self.state.running()
        return self.processes.get(context) if context else None

    # -- making tasks ready -----------------------------------------------------------------

    def resume(self, process: LuaProcess, task: int, values: tuple[Any, ...]) -> None:
        if not process.alive:
            return
        state = self._kernel()
        state.wake(process.lua_context, task, *lua_values(state, values))
        self.poke()

    def poke(self) -> None:
        """Something is ready: a sleeping driver wakes up, or, while a batch of frames from
        another node is applied, the kernel runs at the batch's end (`actors.run_at_once`)."""
        if self._wake is not None and not defer(self._run_now):
            self._wake.set()

    def _run_now(self) -> None:
        """Run the kernel outside the driver, while the driver sleeps: due timers first, at
        most one slice, as the driver would; the driver wakes when work or a timer is left."""
        wake = self._wake
        if wake is None or KERNEL.state is not None:  # the driver runs, or a kernel does
            if wake is not None:
                wake.set()
            return
        clock = time.monotonic
        slice_end = clock() + _SLICE
        ready = True  # unless the kernel said otherwise (what it says last is still true)
        try:
            self._fire_due_timers()
            while ready := self.run_batch():
                if clock() >= slice_end:
                    break
                self._fire_due_timers()
        finally:
            if ready or (self._timers and self._timers[0][0] <= clock()):
                wake.set()

    def park(self) -> Waiter:
        """A waiter for the task that is running now (the caller then returns status 0)."""
        context, task = self._kernel().running()
        process = self.processes.get(context)
        assert process is not None, "a blocking call outside any process"
        return Waiter(self, process, task)

    # -- timers -----------------------------------------------------------------------------

    def call_at(self, deadline: float, action: Waiter | Callable[[], None]) -> list[Any]:
        """Run `action` (fire a waiter with no values, or call it) at monotonic `deadline`.
        Returns a handle for `cancel_timer`."""
        entry = [deadline, next(self._timer_seq), action, deadline > time.monotonic()]
        heapq.heappush(self._timers, entry)
        if self._wake is not None and self._timers[0] is entry:
            self._wake.set()
        return entry

    @staticmethod
    def cancel_timer(entry: list[Any]) -> None:
        entry[2] = None

    def _fire_due_timers(self) -> None:
        """Fire what is due. A process woken by a timer that was set for later (a sleep, a
        timeout) goes to the front of the run queue: behind a thousand busy processes it
        would otherwise be late by a whole round of them. One set for "now" (sleep(0), a
        deferred exit) keeps its place behind the processes that are ready already."""
        now = time.monotonic()
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, action, urgent = heapq.heappop(timers)
            if action is None:
                continue
            if urgent and self.state is not None:
                self.state.set_urgent(True)
                try:
                    _fire(action)
                finally:
                    self.state.set_urgent(False)
            else:
                _fire(action)

    # -- async operations -------------------------------------------------------------------

    def start_async(self, waiter: Waiter, work: Coroutine[Any, Any, Any], done: Callable) -> None:
        """Run `work` on the event loop; `done(waiter, result, exception)` answers the task."""
        assert self._spawn_async is not None
        self._spawn_async(self._finish_async, waiter, work, done)

    @staticmethod
    async def _finish_async(waiter: Waiter, work: Coroutine[Any, Any, Any], done: Callable) -> None:
        try:
            result = await work
        except Exception as exc:
            done(waiter, None, exc)
        else:
            done(waiter, result, None)

    # -- the driver -------------------------------------------------------------------------

    def run_batch(self, budget: int = _BATCH) -> bool:
        """Let the kernel run up to `budget` ready processes; True when some are still ready."""
        state = self._kernel()
        outer, KERNEL.state = KERNEL.state, state
        try:
            return bool(state.run(budget))
        finally:
            KERNEL.state = outer

    def call_run(self, entry: Entry, args: Sequence[Any]) -> CallRun | None:
        """`LuaState.call_run` with a batch's budget, when the kernel may run now as
        `_run_now` would run it: the driver sleeps, no kernel runs on this thread, no timer
        is due (those fire first). None when it may not, or when the state makes no call
        (the caller then spawns as usual). A driver is woken for what is left ready."""
        if self._wake is None or KERNEL.state is not None:
            return None
        if self._timers and self._timers[0][0] <= time.monotonic():
            return None
        state = self._kernel()
        KERNEL.state = state
        try:
            made = state.call_run(entry, args, _BATCH)
        finally:
            KERNEL.state = None
        if made is not None and made.more:
            self.poke()
        return made

    def _drive_batch(self) -> bool:
        """The driver's batch: `run_batch`, and then, before the driver goes on, the hosts
        of this thread whose drivers sleep and that the batch made ready (a message to a
        process of another host). Each runs at once, one slice at most, as a frame from
        another node runs it (`actors.run_at_once`), instead of on the event loop's next
        pass: a request and its reply between two hosts cross no pass of the loop. True
        when this host has work left, its own or made by them."""
        with collecting():
            more = self.run_batch()
        return more or self.busy

    async def run(self, spawn_async: Callable[..., None]) -> None:
        """Run forever: ready processes first, then sleep until a wake-up or the next timer."""
        self._spawn_async = spawn_async
        timers, clock = self._timers, time.monotonic
        others = _NEXT_TIMERS.setdefault(asyncio.get_running_loop(), {})
        while True:
            self._fire_due_timers()
            slice_end = clock() + _SLICE
            while self._drive_batch():
                now = clock()
                if timers and timers[0][0] <= now:
                    self._fire_due_timers()
                if now >= slice_end or (others and _wake_due(others, now)):
                    with self._off_the_loop(others):
                        await anyio.lowlevel.checkpoint()
                    self._fire_due_timers()
                    slice_end = clock() + _SLICE
            # Quiescent: `_drive_batch` looked after the hosts its batch ran, too.
            self._wake = anyio.Event()
            timeout = self._timers[0][0] - time.monotonic() if self._timers else math.inf
            with self._off_the_loop(others), anyio.move_on_after(max(timeout, 0)):
                await self._wake.wait()
            self._wake = None

    @contextlib.contextmanager
    def _off_the_loop(self, others: dict[Scheduler, float]) -> Iterator[None]:
        """While the driver waits, the other drivers of its loop see its next timer."""
        if self._timers:
            others[self] = self._timers[0][0]
        try:
            yield
        finally:
            others.pop(self, None)


def _wake_due(others: dict[Scheduler, float], now: float) -> bool:
    """Wake the sleeping drivers of `others` whose next timer is due (the loop's own timer
    for their sleep fires up to a millisecond late); True when some driver's timer is due."""
    due = False
    for scheduler, deadline in others.items():
        if deadline <= now:
            due = True
            if scheduler._wake is not None:
                scheduler._wake.set()
    return due


def _fire(action: Waiter | Callable[[], None]) -> None:
    if isinstance(action, Waiter):
        action.fire()
    else:
        action()
