"""`actors run APP_DIR [ENTRY_OR_COMMAND] [ARGS...]`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any

import anyio

from actors.commands.common import (
    UsageError,
    describe_error,
    find_entry,
    load_runtime,
    run_booted,
)
from actors.host import SpawnRequest
from actors.runtime import AppRuntime

log = logging.getLogger(__name__)

PROCESS_KINDS = ("process.lua",)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def command(args: argparse.Namespace) -> int:
    if args.target is None:
        runtime = load_runtime(args)
        print(f"actors: running {args.app_dir} (Ctrl-C to stop)", file=sys.stderr)
        return run_booted(runtime, _serve)
    return _run_one(args)


async def _serve(runtime: AppRuntime) -> int:
    """Run until SIGINT or SIGTERM; the node then stops cleanly (HTTP services first stop
    accepting and let requests in flight finish, then processes get CANCEL)."""
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        async for received in signals:
            print(f"actors: {signal.Signals(received).name}, stopping", file=sys.stderr)
            return 0
    return 0


def _run_one(args: argparse.Namespace) -> int:
    runtime = load_runtime(args, command_mode=True)
    runtime.node.shutdown_grace = 1.0  # lua-api §4.6: command mode waits 1 s for leftovers
    entry = find_entry(runtime, args.target, PROCESS_KINDS)
    terminals = [e.id for e in runtime.app.registry.by_kind("terminal.host")]
    if len(terminals) != 1:
        raise UsageError(
            f"running {entry} needs exactly one terminal.host entry (found {len(terminals)})"
        )
    host_name = terminals[0]

    async def body(runtime: AppRuntime) -> int:
        host = runtime.node.host(host_name)
        host.terminal_args = list(args.args)  # type: ignore[attr-defined]
        pid = await runtime.node.spawn(host_name, SpawnRequest(target=entry))
        event = await host.wait_exit(pid)
        runtime.stop_services()
        if event.error is not None:
            print(f"error: {describe_error(event.error)}", file=sys.stderr)
            return 1
        return exit_code(event.value)

    return run_booted(runtime, body)


def exit_code(value: Any) -> int:
    """A numeric result is the exit code; `true`/nil/anything else is success."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return 0
