"""Idle workflow Lua hosts of one worker, kept per workflow entry for the next run.

Making a workflow's Lua host (a Lua state with the core, the deterministic environment, the
modules the workflow requires and its entry's compiled code) costs more CPU than running a
short workflow through it. A run therefore takes an idle host of its entry when there is
one, runs its one process in a fresh context of that state, drops the context when it ends
and gives the host back. Nothing of a run survives in the state: everything a process can
write lives in its context, and what the state shares (libraries, modules, metatables) a
process sees only through read-only views or copy-on-write proxies, the isolation rules
processes of one local host already live by (docs/workflows.md, "Lua states are reused,
runs are not").

Workflow tasks run on the SDK's worker threads, so `take` and `give` may race; they only
use deque operations that are atomic in CPython, and a host is owned by one run at a time.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")

IDLE_PER_TYPE = 64
"""Idle hosts kept per workflow entry; a host given back beyond that is dropped (a burst of
concurrent runs does not stay in memory once it is over)."""


class StatePool(Generic[T]):
    """Idle hosts by key (the workflow entry ID), most recently used first."""

    def __init__(self, idle_per_type: int = IDLE_PER_TYPE) -> None:
        self.idle_per_type = idle_per_type
        self._idle: dict[str, deque[T]] = {}
        self.made = 0
        """Hosts made because none was idle (statistics, read by tests and benchmarks)."""
        self.reused = 0
        """Runs that took an idle host."""

    def take(self, key: str) -> T | None:
        """An idle host of `key`, now owned by the caller; None when there is none."""
        idle = self._idle.get(key)
        if idle:
            try:
                host = idle.pop()
            except IndexError:  # another thread took the last one
                return None
            self.reused += 1
            return host
        return None

    def give(self, key: str, host: T) -> bool:
        """Keep `host` for the next run of `key`; False when the pool is full (dropped)."""
        idle = self._idle.setdefault(key, deque())
        if len(idle) >= self.idle_per_type:
            return False
        idle.append(host)
        return True

    def idle(self, key: str) -> int:
        return len(self._idle.get(key, ()))

    def clear(self) -> None:
        self._idle.clear()
