"""Boot an app and serve until stopped, or run one process entry on the terminal host.

`actors run APP_DIR`: start every auto_start entry and run until Ctrl-C or SIGTERM.
`actors run APP_DIR ENTRY_OR_COMMAND [ARGS...]`: run that entry (or the one whose
`meta.command.name` matches) on the app's `terminal.host` and exit with its result. The words
after the entry belong to the process (`io.args()`); an `actors` option among them is a
mistake, not an argument (put it before the entry, or after `--` to hand it to the process).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from actors.commands.common import (
    Stopped,
    UsageError,
    add_app_options,
    describe_error,
    find_entry,
    load_runtime,
    run_booted,
)
from actors.errors import ActorError
from actors.host import SpawnRequest
from actors.kinds import runnable_kinds, terminal_host
from actors.runtime import AppRuntime

NAME = "run"
HELP = "boot the app and run until stopped, or run one process entry or named command"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_dir", metavar="APP_DIR")
    parser.add_argument("target", metavar="ENTRY_OR_COMMAND", nargs="?")
    add_app_options(parser)
    parser.usage = "actors run [options] APP_DIR [ENTRY_OR_COMMAND [ARGS...]]"


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Options anywhere up to the entry name; the words after it are the process's."""
    split = _after_target(parser, argv)
    head, tail = argv[:split], argv[split:]
    args = parser.parse_intermixed_args(head)
    if "--" in tail:
        cut = tail.index("--")
        own, passed = tail[:cut], tail[cut + 1 :]
    else:
        own, passed = tail, []
    for word in own:
        option = word.split("=", 1)[0]
        if option in parser._option_string_actions:
            raise UsageError(
                f"{option} after {args.target}: options of actors go before the entry name "
                f"(or after '--' to hand them to the process)"
            )
    args.args = own + passed
    return args


def _after_target(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    """The index just past the second positional word (the entry), or len(argv)."""
    positionals = 0
    index = 0
    while index < len(argv):
        word = argv[index]
        index += 1
        if word == "--":
            return len(argv)
        if word.startswith("-") and word != "-":
            action = parser._option_string_actions.get(word.split("=", 1)[0])
            if action is not None and action.nargs != 0 and "=" not in word:
                index += 1
            continue
        positionals += 1
        if positionals == 2:
            return index
    return len(argv)


def command(args: argparse.Namespace) -> int:
    if args.target is None:
        return _serve(args)
    return _run_one(args)


def _serve(args: argparse.Namespace) -> int:
    runtime = load_runtime(args)
    print(f"actors: running {args.app_dir} (Ctrl-C to stop)", file=sys.stderr)
    try:
        return run_booted(runtime, _forever)
    except Stopped:
        return 0  # serving until stopped is the normal end


async def _forever(runtime: AppRuntime) -> int:
    await runtime.run_forever()
    return 0


def _run_one(args: argparse.Namespace) -> int:
    runtime = load_runtime(args, command_mode=True)
    runtime.node.shutdown_grace = 1.0  # lua-api §4.6: command mode waits 1 s for leftovers
    entry = find_entry(runtime, args.target, runnable_kinds(runtime.plugins, terminal=True))
    try:
        host_name = terminal_host(runtime.plugins, entry, runtime.app.registry)
    except ActorError as exc:
        raise UsageError(exc.error.message) from None

    async def body(runtime: AppRuntime) -> int:
        host = runtime.node.host(host_name)
        host.terminal_args = list(args.args)  # type: ignore[attr-defined]
        pid = await runtime.node.spawn(host_name, SpawnRequest(target=entry.id))
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
