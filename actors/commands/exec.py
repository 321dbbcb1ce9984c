"""`actors exec APP_DIR ENTRY [--host HOST] [--input JSON]`: run one process or workflow.

Spawns the entry (a `process.lua` on a process host, or a `workflow.*` entry on a
`temporal.worker`), waits for it to end and prints its result as JSON on stdout. A failure is
printed readably on stderr with exit code 1. The host defaults to what the entry says: the
workflow's `meta.temporal.workflow.worker`, or the process's `meta.default_host`, or the only
`process.host` of the app.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from actors.commands.common import (
    UsageError,
    describe_error,
    find_entry,
    load_runtime,
    run_booted,
)
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from actors.registry import Entry
from actors.runtime import AppRuntime

PROCESS_KINDS = ("process.lua",)
WORKFLOW_PREFIX = "workflow."


def command(args: argparse.Namespace) -> int:
    runtime = load_runtime(args, command_mode=True)
    runtime.node.shutdown_grace = 1.0
    arguments = _arguments(args.input)
    entry = _entry(runtime, args.entry)
    host_name = args.host or _default_host(runtime, entry)

    async def body(runtime: AppRuntime) -> int:
        node = runtime.node
        if host_name not in node.hosts:
            raise UsageError(f"no host {host_name!r} in this app")
        try:
            pid = await node.spawn(host_name, SpawnRequest(target=entry.id, args=arguments))
        except ActorError as exc:
            return _failed(f"cannot start {entry.id}: {describe_error(exc.error)}")
        event = await node.host(host_name).wait_exit(pid)
        runtime.stop_services()
        if event.error is not None:
            return _failed(describe_error(event.error))
        print(_json(event.value))
        return 0

    return run_booted(runtime, body)


def _failed(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _arguments(text: str | None) -> tuple[Any, ...]:
    if text is None:
        return ()
    try:
        return (json.loads(text),)
    except ValueError as exc:
        raise UsageError(f"--input is not valid JSON: {exc}") from None


def _entry(runtime: AppRuntime, name: str) -> Entry:
    entry = runtime.app.registry.get(name)
    if entry is not None and entry.kind.startswith(WORKFLOW_PREFIX):
        return entry
    found = runtime.app.registry.get(find_entry(runtime, name, PROCESS_KINDS))
    assert found is not None
    return found


def _default_host(runtime: AppRuntime, entry: Entry) -> str:
    if entry.kind.startswith(WORKFLOW_PREFIX):
        temporal = entry.meta.get("temporal") or {}
        worker = (temporal.get("workflow") or {}).get("worker")
        if not worker:
            raise UsageError(f"{entry.id} names no meta.temporal.workflow.worker; pass --host")
        return entry.resolve_ref(worker)
    host = entry.meta.get("default_host")
    if host:
        return entry.resolve_ref(host)
    hosts = [e.id for e in runtime.app.registry.by_kind("process.host")]
    if len(hosts) != 1:
        raise UsageError(f"{entry.id}: pass --host (the app has {len(hosts)} process.host entries)")
    return hosts[0]


def _json(value: Any) -> str:
    """Plain JSON: errors as their wire form, byte strings as text, other runtime values
    (times, durations...) as their string form."""
    return json.dumps(value, default=_jsonable, ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Error):
        return value.to_dict()
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)
