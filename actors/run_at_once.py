"""Work that arrives from outside runs before the event loop's next pass.

A frame from another node is applied inside the socket's read callback (`InlineReader`).
When it makes a process ready, its host's scheduler would normally be woken through an
event and run on the loop's next pass: one more pass of the loop and a task switch on the
critical path of every message between nodes (a ping-pong pays it on every hop). Instead,
the cluster applies a batch of frames inside `collecting()`; a scheduler that would wake
asks `defer(run)`, and each such `run` is called once when the batch is applied, still in
the read callback, so the answer a process sends is on the socket before the loop moves on.
A Temporal activity of a Lua function spawns its process the same way
(temporal_host/activities.py): the function has run when the spawn's block ends. And a Lua
host's driver runs each of its batches so (`Scheduler._drive_batch`): a message to a
process of a sleeping host runs that host when the batch ends, not on the loop's next pass.

The scheduler keeps its own rules in `run` (it runs at most one slice and fires due timers
first, and wakes its driver when work is left), so fairness and timer latency stay its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class _Batch(threading.local):
    """The batch being applied on this thread (Temporal runs workflow tasks on worker
    threads: a scheduler poked there must not join a batch of the loop's thread)."""

    pending: list[Callable[[], None]] | None = None
    """The runs asked for in the batch; None outside `collecting`."""
    depth: int = 0
    """Batches opened inside the one that collects (they leave the runs to it)."""


_BATCH = _Batch()


class _Collecting:
    """`with collecting():` applies a batch; the runs deferred meanwhile are called, in
    order, at its end. A class, not a generator, and one instance for every batch: it is
    on the path of every message between nodes."""

    __slots__ = ()

    def __enter__(self) -> None:
        batch = _BATCH
        if batch.pending is None:
            batch.pending = []
        else:
            batch.depth += 1

    def __exit__(self, *exc: object) -> None:
        batch = _BATCH
        if batch.depth:
            batch.depth -= 1
            return
        pending, batch.pending = batch.pending, None
        for run in pending or ():
            try:
                run()
            except Exception:
                log.exception("a run deferred to the end of a batch failed")


_COLLECTING = _Collecting()


def collecting() -> _Collecting:
    """Apply a batch: the runs deferred meanwhile are called, in order, at its end."""
    return _COLLECTING


def defer(run: Callable[[], None]) -> bool:
    """Ask for `run` at the end of the batch being applied on this thread; False when there
    is none (the caller then wakes its driver as usual)."""
    pending = _BATCH.pending
    if pending is None:
        return False
    if run not in pending:
        pending.append(run)
    return True


def run_sync(work: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine that must not suspend (an operation of an in-memory host) to its
    end, here and now; RuntimeError when it suspends after all."""
    try:
        work.send(None)
    except StopIteration as stop:
        return stop.value
    work.close()
    raise RuntimeError("an in-memory host operation suspended")
