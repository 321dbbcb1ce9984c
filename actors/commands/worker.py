"""`actors worker APP_DIR`: run the app's hosts and Temporal workers until SIGINT / SIGTERM.

Unlike `actors run` it starts no supervised services: it is the process to deploy (several
times, on several machines) to serve an app's workflows and activities. On a signal the node
shuts down cleanly: workers stop polling, local processes get CANCEL, then the embedded dev
server (if the app uses one) stops.
"""

from __future__ import annotations

import argparse
import signal
import sys

import anyio

from actors.commands.common import load_runtime, run_booted
from actors.runtime import AppRuntime

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def command(args: argparse.Namespace) -> int:
    runtime = load_runtime(args)
    workers = [e.id for e in runtime.app.registry.by_kind("temporal.worker")]
    if not workers:
        print(f"warning: {args.app_dir} has no temporal.worker entry", file=sys.stderr)

    async def body(runtime: AppRuntime) -> int:
        with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
            names = ", ".join(workers) or "no workers"
            print(f"actors: worker running ({names}); Ctrl-C to stop", file=sys.stderr)
            async for received in signals:
                print(f"actors: {signal.Signals(received).name}, stopping", file=sys.stderr)
                break
        return 0

    return run_booted(runtime, body, services=False)
