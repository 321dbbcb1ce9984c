"""Run the app's hosts and Temporal workers until SIGINT / SIGTERM.

Unlike `actors run` it starts no supervised services: it is the process to deploy (several
times, on several machines) to serve an app's workflows and activities. On a signal the node
shuts down cleanly: workers stop polling, local processes get CANCEL, then the embedded dev
server (if the app uses one) stops.
"""

from __future__ import annotations

import argparse
import sys

import anyio

from actors.commands.common import Stopped, add_app_options, load_runtime, run_booted
from actors.runtime import AppRuntime

NAME = "worker"
HELP = "run the app's hosts and Temporal workers until SIGINT/SIGTERM"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_dir", metavar="APP_DIR")
    add_app_options(parser)


def command(args: argparse.Namespace) -> int:
    runtime = load_runtime(args)

    async def body(runtime: AppRuntime) -> int:
        names = ", ".join(runtime.node.hosts)
        print(f"actors: worker running (hosts {names}); Ctrl-C to stop", file=sys.stderr)
        await anyio.sleep_forever()
        return 0

    try:
        return run_booted(runtime, body, services=False)
    except Stopped:
        return 0
