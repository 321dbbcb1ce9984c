"""Replay workflow histories against the app's current workflow code.

Each HISTORY is a JSON file as the Temporal CLI (`temporal workflow show -w ID --output
json`) or Web UI export it, or as `actors test --record DIR` saves it; `--workflow-id ID`
(repeatable) fetches one from the server at `--temporal-address` instead. A history that
does not replay is reported with its workflow id, the recorded and the replayed command, the
Lua line that issued it and the `workflow.version` guard that would keep old runs safe.
Exit code 1 when any history does not replay.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio

from actors.commands.common import UsageError, add_app_options
from actors.testing.replays import History, fetch_history, load_history, replay_async

NAME = "replay"
HELP = "replay workflow histories against the app's current code (determinism check)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_dir", metavar="APP_DIR")
    parser.add_argument("histories", metavar="HISTORY.json", nargs="*")
    parser.add_argument(
        "--workflow-id",
        action="append",
        default=[],
        metavar="ID",
        help="fetch this workflow's history from --temporal-address (repeatable)",
    )
    parser.add_argument("--namespace", default="default", help="namespace of --workflow-id")
    add_app_options(parser)


def command(args: argparse.Namespace) -> int:
    if not args.histories and not args.workflow_id:
        raise UsageError("name a HISTORY.json file or a --workflow-id")
    if args.workflow_id and not args.temporal_address:
        raise UsageError("--workflow-id needs --temporal-address HOST:PORT")

    async def main() -> list[History]:
        histories = [load_history(path) for path in args.histories]
        for workflow_id in args.workflow_id:
            address, namespace = args.temporal_address, args.namespace
            histories.append(await fetch_history(address, workflow_id, namespace=namespace))
        return histories

    histories = anyio.run(main)
    results = anyio.run(replay_async, Path(args.app_dir), histories, args.override)
    failed = 0
    for result in results:
        history = result.history
        if result.divergence is None:
            print(f"ok    {history.workflow_id} ({history.workflow_type})")
        else:
            failed += 1
            print(f"FAIL  {result.divergence}")
    print(f"{len(results) - failed} replayed, {failed} did not replay")
    sys.stdout.flush()
    return 1 if failed else 0
