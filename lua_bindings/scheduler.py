"""The scheduler that runs the Lua processes of one host.

All processes of a host run in one anyio task. A process with ready coroutines ("tasks") is
queued; the driver runs each queued process until every one of its tasks is blocked, and only
awaits the event loop when nothing is ready. Channel hand-offs, select and coroutine switches
inside a process therefore never touch the event loop, and a message between two Lua
processes costs two Lua resumes and no loop iteration.

A blocked task is represented by a `Waiter`: whoever can answer it (a channel, a mailbox, a
timer, an async operation) calls `fire(values)` exactly once.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from lua_bindings.process import LuaProcess

log = logging.getLogger(__name__)

_LOOK_EVERY = 16
"""Processes run between two looks at the clock (for due timers and the end of a slice)."""
_SLICE = 0.002
"""Seconds of running processes between two visits to the event loop (I/O, other tasks):
a busy host batches its work (quiescence batching) without starving anything. Timers are
fired between slices too, so a 1 ms timer is late by about one look, not one slice."""


class _Owner(threading.local):
    """The slot maker of the process whose code runs now; set by the scheduler. A channel
    belongs to the process that creates it, and that is always the running one.

    Per thread: Temporal runs workflow tasks (each with its own Lua host) on worker
    threads while the node's scheduler runs on the event loop's thread."""

    slot: Callable[[Any], int] | None = None


OWNER = _Owner()


class Waiter:
    """One blocked task. `fire` resumes it with values; later fires are ignored.

    `cleanup` callbacks remove the waiter from every place it was registered (a select waits
    on several channels), so abandoned registrations never pile up in a channel.
    """

    __slots__ = ("cleanup", "done", "process", "scheduler", "task")

    def __init__(self, scheduler: Scheduler, process: LuaProcess, task: int) -> None:
        self.scheduler = scheduler
        self.process = process
        self.task = task
        self.done = False
        self.cleanup: list[Callable[[], None]] = []

    def fire(self, *values: Any) -> bool:
        if self.done:
            return False
        self.done = True
        for undo in self.cleanup:
            undo()
        self.cleanup = []
        self.scheduler.resume(self.process, self.task, values)
        return True

    @property
    def live(self) -> bool:
        return not self.done and self.process.alive


class Scheduler:
    def __init__(self, name: str) -> None:
        self.name = name
        self.current: LuaProcess | None = None
        self.current_task = 0
        self._runq: deque[LuaProcess] = deque()
        self._timers: list[list[Any]] = []
        """[deadline, sequence, action] entries; `cancel_timer` clears the action."""
        self._timer_seq = itertools.count()
        self._wake: anyio.Event | None = None
        self._spawn_async: Callable[..., None] | None = None

    @property
    def busy(self) -> bool:
        """Whether some process has work queued (benchmarks wait for this to settle)."""
        return bool(self._runq)

    # -- making tasks ready -----------------------------------------------------------------

    def resume(self, process: LuaProcess, task: int, values: tuple[Any, ...]) -> None:
        if not process.alive:
            return
        process.ready.append((task, values))
        if not process.queued:
            process.queued = True
            self._runq.append(process)
            if self._wake is not None:
                self._wake.set()

    def park(self) -> Waiter:
        """A waiter for the task that is running now (the caller then returns status 0)."""
        assert self.current is not None, "a blocking call outside any process"
        return Waiter(self, self.current, self.current_task)

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
        timers, runq = self._timers, self._runq
        while timers and timers[0][0] <= now:
            _, _, action, urgent = heapq.heappop(timers)
            if action is None:
                continue
            before = len(runq)
            if isinstance(action, Waiter):
                action.fire()
            else:
                action()
            if urgent and len(runq) == before + 1:
                runq.appendleft(runq.pop())

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

    async def run(self, spawn_async: Callable[..., None]) -> None:
        """Run forever: ready processes first, then sleep until a wake-up or the next timer."""
        self._spawn_async = spawn_async
        runq, timers, clock = self._runq, self._timers, time.monotonic
        while True:
            self._fire_due_timers()
            slice_end = clock() + _SLICE
            look = _LOOK_EVERY
            while runq:
                process = runq.popleft()
                process.queued = False
                self._run_process(process)
                look -= 1
                if look == 0:
                    look = _LOOK_EVERY
                    now = clock()
                    if timers and timers[0][0] <= now:
                        self._fire_due_timers()
                    if now >= slice_end:
                        await anyio.lowlevel.checkpoint()
                        self._fire_due_timers()
                        slice_end = clock() + _SLICE
            self._wake = anyio.Event()
            timeout = self._timers[0][0] - time.monotonic() if self._timers else math.inf
            with anyio.move_on_after(max(timeout, 0)):
                await self._wake.wait()
            self._wake = None

    def _run_process(self, process: LuaProcess) -> None:
        self.current = process
        OWNER.slot = process.slot
        ready = process.ready
        try:
            while ready and process.alive:
                task, values = ready.popleft()
                self.current_task = task
                process.step(task, values)
        finally:
            self.current = None
            self.current_task = 0
            OWNER.slot = None
