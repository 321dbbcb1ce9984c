"""Checks a workflow spawn makes before anything reaches Temporal (issue 12 item 6).

A workflow whose entry names no worker, an unknown worker, or whose source does not compile
would otherwise be started and then fail its workflow task on every retry, leaving the
spawner and its monitors waiting forever. These mistakes are visible at spawn time, so the
spawn returns `nil, err` instead (`Invalid`, naming the entry and what is wrong).
"""

from __future__ import annotations

import threading

import lupa.lua54 as lupa

from actors.errors import invalid
from actors.registry import Entry, Registry
from lua_bindings.app import LuaApp
from temporal_host.meta import TemporalMeta

WORKER_KIND = "temporal.worker"


def check_workflow_entry(entry: Entry, registry: Registry, worker: str | None = None) -> None:
    """`entry` is a workflow registered on an existing worker (on `worker`, when that is the
    local worker serving the task queue it is started on)."""
    if not entry.kind.startswith("workflow."):
        raise invalid(f"entry {entry.id} is a {entry.kind}, not a workflow")
    registered = TemporalMeta.of(entry).workflow_worker
    if registered is None:
        raise invalid(f"{entry.id} names no worker (meta.temporal.workflow.worker)")
    found = registry.get(registered)
    if found is None or found.kind != WORKER_KIND:
        raise invalid(
            f"{entry.id}: meta.temporal.workflow.worker {registered} is not a {WORKER_KIND}"
        )
    if worker is not None and worker != registered:
        raise invalid(f"{entry.id} is registered on {registered}, not on {worker}")


class SourceCheck:
    """Compiles workflow sources (syntax only, never run), once per source version."""

    def __init__(self, app: LuaApp) -> None:
        self.app = app
        self._ok: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._load = lupa.LuaRuntime(
            encoding=None, register_eval=False, unpack_returned_tuples=True
        ).eval("load")

    def __call__(self, entry: Entry) -> None:
        source, chunkname = self.app.source(entry)
        key = (chunkname, source)
        if key in self._ok:
            return
        with self._lock:
            compiled = self._load(source.encode(), chunkname.encode(), b"t", None)
        if isinstance(compiled, tuple):  # nil, message
            message = compiled[1]
            text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
            raise invalid(f"{entry.id}: {text}")
        self._ok.add(key)
