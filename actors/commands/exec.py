"""Spawn one process, function or workflow, wait for it, print its result as JSON.

`actors exec APP_DIR ENTRY [--host HOST] [--input JSON] [--services]` spawns the entry on
HOST, or where its kind plugin says it runs (a workflow on its
`meta.temporal.workflow.worker`, a process on its `meta.default_host` or the app's only
`process.host`, a function on the funcs host), waits for it to end and prints its result as
JSON on stdout: stdout carries nothing else. A failure is printed on stderr with exit code 1.
Only the hosts start: the app's supervised services (auto_start processes) and servers
(HTTP services) start too with `--services`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from actors.commands.common import (
    UsageError,
    add_app_options,
    describe_error,
    find_entry,
    host_for,
    load_runtime,
    run_booted,
)
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from actors.kinds import runnable_kinds
from actors.runtime import AppRuntime

NAME = "exec"
HELP = "spawn one process, function or workflow, wait, print its result as JSON"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_dir", metavar="APP_DIR")
    parser.add_argument("entry", metavar="ENTRY")
    parser.add_argument("--host", help="host or temporal.worker entry to run on")
    parser.add_argument("--input", default=None, help="JSON value passed as the argument")
    parser.add_argument(
        "--services",
        action="store_true",
        help="also start the app's auto_start services and servers",
    )
    add_app_options(parser)


def command(args: argparse.Namespace) -> int:
    # command_mode: plugins start no servers (HTTP) for a single run, unless asked.
    runtime = load_runtime(args, command_mode=not args.services)
    runtime.node.shutdown_grace = 1.0
    arguments = _arguments(args.input)
    entry = find_entry(runtime, args.entry, runnable_kinds(runtime.plugins))
    host_name = host_for(runtime, entry, args.host)

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

    return run_booted(runtime, body, services=args.services)


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
