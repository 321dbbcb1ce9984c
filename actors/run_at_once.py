"""Work that arrives from outside runs before the event loop's next pass.

A frame from another node is applied inside the socket's read callback (`InlineReader`).
When it makes a process ready, its host's scheduler would normally be woken through an
event and run on the loop's next pass: one more pass of the loop and a task switch on the
critical path of every message between nodes (a ping-pong pays it on every hop). Instead,
the cluster applies a batch of frames inside `collecting()`; a scheduler that would wake
asks `defer(run)`, and each such `run` is called once when the batch is applied, still in
the read callback, so the answer a process sends is on the socket before the loop moves on.

The scheduler keeps its own rules in `run` (it runs at most one slice and fires due timers
first, and wakes its driver when work is left), so fairness and timer latency stay its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

_pending: list[Callable[[], None]] | None = None
"""The runs asked for in the batch being applied; None outside `collecting`."""


class _Collecting:
    """`with collecting():` applies a batch; the runs deferred meanwhile are called, in
    order, at its end. A class, not a generator, and one instance for every batch: it is
    on the path of every message between nodes."""

    __slots__ = ("_outer",)

    def __init__(self) -> None:
        self._outer = 0
        """Batches opened inside the one that collects (they leave the runs to it)."""

    def __enter__(self) -> None:
        global _pending
        if _pending is None:
            _pending = []
        else:
            self._outer += 1

    def __exit__(self, *exc: object) -> None:
        global _pending
        if self._outer:
            self._outer -= 1
            return
        pending, _pending = _pending, None
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
    """Ask for `run` at the end of the batch being applied; False when there is none (the
    caller then wakes its driver as usual)."""
    if _pending is None:
        return False
    if run not in _pending:
        _pending.append(run)
    return True
