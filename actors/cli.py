"""The `actors` command line: run, test, worker and exec an app folder.

Errors are printed for people (one line naming what is wrong), never as tracebacks;
`-v` turns on debug logging for those who want the details.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from actors.commands import exec as exec_command
from actors.commands import run, testing, worker
from actors.commands.common import UsageError
from actors.errors import ActorError

log = logging.getLogger("actors")

Command = Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {
    "run": run.command,
    "test": testing.command,
    "worker": worker.command,
    "exec": exec_command.command,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actors",
        description="Run Erlang-style Lua processes, local and durable (Temporal), from an app "
        "folder of YAML entries and Lua sources.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="boot the app and run until stopped, or run one process entry or named command",
        description="Without ENTRY_OR_COMMAND: start every auto_start entry and run until "
        "Ctrl-C. With it: run that process.lua entry (or the entry whose meta.command.name "
        "matches) on the terminal host and exit with its result.",
    )
    run.add_argument("app_dir", metavar="APP_DIR")
    run.add_argument("target", metavar="ENTRY_OR_COMMAND", nargs="?")
    run.add_argument("args", metavar="ARGS", nargs=argparse.REMAINDER)
    _add_app_options(run)

    test = sub.add_parser(
        "test",
        help="run the app's test entries (meta.type: test)",
        description="Run every entry with meta.type: test whose id contains any PATTERN.",
    )
    test.add_argument("app_dir", metavar="APP_DIR")
    test.add_argument("patterns", metavar="PATTERN", nargs="*")
    test.add_argument("--timeout", type=float, default=30.0, help="seconds per test (30)")
    _add_app_options(test)

    worker = sub.add_parser(
        "worker",
        help="run the app's hosts and Temporal workers until SIGINT/SIGTERM",
    )
    worker.add_argument("app_dir", metavar="APP_DIR")
    _add_app_options(worker)

    exec_ = sub.add_parser(
        "exec",
        help="spawn one process or workflow, wait, print its result as JSON",
    )
    exec_.add_argument("app_dir", metavar="APP_DIR")
    exec_.add_argument("entry", metavar="ENTRY")
    exec_.add_argument("--host", help="host or temporal.worker entry to run on")
    exec_.add_argument("--input", default=None, help="JSON value passed as the argument")
    _add_app_options(exec_)
    return parser


def _add_app_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--override",
        action="append",
        default=[],
        metavar="NS:ENTRY:PATH=VALUE",
        help="override an entry field at launch (repeatable)",
    )
    parser.add_argument(
        "--temporal-address",
        metavar="ADDRESS",
        help="'embedded' to start the bundled dev server, or HOST:PORT of a Temporal server",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return COMMANDS[args.command](args)
    except (UsageError, ActorError) as exc:
        print(f"actors {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
