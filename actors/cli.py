"""The `actors` command line: run, test, worker, exec and replay an app folder.

Ordinary habits: options go anywhere, also after positionals (`actors test APP --timeout 10
PATTERN`); every failure is one line on stderr and a non-zero exit, never a traceback
(`-v` / `--log-level debug` logs the traceback for those who want it). Exit codes: 0 done,
1 the run failed, 2 it could not run (a usage or app-folder mistake, a server that cannot be
reached), 128 + N stopped by signal N.

A command is a module of `actors.commands` listed in `COMMANDS`; see
`actors.commands.common` for what it exposes.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from types import ModuleType
from typing import NoReturn

from actors import logs
from actors.commands import exec as exec_command
from actors.commands import replay, run, testing, worker
from actors.commands.common import Stopped, UsageError
from actors.errors import ActorError, sole_exception

log = logging.getLogger("actors")

COMMANDS: tuple[ModuleType, ...] = (run, testing, worker, exec_command, replay)

_VALUED_GLOBALS = frozenset({"--log-level"})


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line (`UsageError`), not usage + exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """Options every command accepts, anywhere on the line."""
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logs and tracebacks of failures"
    )
    parser.add_argument(
        "--log-level",
        choices=logs.LEVEL_NAMES,
        type=str.lower,
        help="lowest level logged to stderr (default: info for processes, warning for the runtime)",
    )


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser (for `--help`) and one parser per command."""
    top = _Parser(
        prog="actors",
        description="Run Erlang-style Lua processes, local and durable (Temporal), from an app "
        "folder of YAML entries and Lua sources.",
    )
    add_global_options(top)
    top.add_argument("--version", action="version", version=f"actors {_version()}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parsers: dict[str, argparse.ArgumentParser] = {}
    for module in COMMANDS:
        parser = sub.add_parser(
            module.NAME, help=module.HELP, description=(module.__doc__ or "").split("\n\n")[0]
        )
        module.configure(parser)
        add_global_options(parser)
        parser.set_defaults(handler=module)
        parsers[module.NAME] = parser
    return top, parsers


def _version() -> str:
    try:
        return metadata.version("actors")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse a command line: global options may come before the command word too."""
    top, parsers = build_parser()
    words = list(argv)
    position = _command_position(words)
    if position is None:
        top.parse_args(words)  # prints --help and exits, or names what is missing
        raise UsageError("missing COMMAND (see 'actors --help')")
    name = words[position]
    parser = parsers.get(name)
    if parser is None:
        raise UsageError(f"unknown command {name!r}; commands: {', '.join(parsers)}")
    rest = words[:position] + words[position + 1 :]
    module = parser.get_default("handler")
    custom = getattr(module, "parse", None)
    args = custom(parser, rest) if custom is not None else parser.parse_intermixed_args(rest)
    args.command = name
    return args


def _command_position(words: list[str]) -> int | None:
    index = 0
    while index < len(words):
        word = words[index]
        if not word.startswith("-") or word == "-":
            return index
        if word == "--":
            return index + 1 if index + 1 < len(words) else None
        index += 2 if word in _VALUED_GLOBALS else 1
    return None


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse(words)
    except UsageError as exc:
        print(f"actors: {exc}", file=sys.stderr)
        return 2
    logs.configure(level=args.log_level, verbose=args.verbose)
    return run_command(args)


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command; every failure becomes one line on stderr and an exit code."""
    try:
        return int(args.handler.command(args))
    except BaseExceptionGroup as group:
        error: BaseException = sole_exception(group)
    except BaseException as exc:
        error = exc
    return _report(args.command, error)


def _report(command: str, error: BaseException) -> int:
    if isinstance(error, BaseExceptionGroup):
        # Several failures at once (rare: tasks of one node): the first names the problem.
        log.debug("actors %s failed", command, exc_info=error)
        return _report(command, error.exceptions[0])
    if isinstance(error, SystemExit):
        raise error
    if isinstance(error, KeyboardInterrupt):
        return 130
    if isinstance(error, Stopped):
        return 128 + error.signum
    if isinstance(error, UsageError | ActorError):
        print(f"actors {command}: {error}", file=sys.stderr)
        return 2
    log.debug("actors %s failed", command, exc_info=error)
    detail = f"{type(error).__name__}: {error}".strip().splitlines()
    hint = "" if log.isEnabledFor(logging.DEBUG) else " (-v for details)"
    print(f"actors {command}: {' '.join(detail)}{hint}", file=sys.stderr)
    return 1


def console_main() -> NoReturn:
    """The `actors` program: `main`, then `exit_process`."""
    exit_process(main())


def exit_process(code: int) -> NoReturn:
    """End the process with `code` once the atexit handlers have run and the streams and
    logs are flushed, without the interpreter's finalization.

    The Temporal SDK's native threads (its Rust core) can still be completing a call into
    Python while the interpreter tears down its modules, and then CPython aborts the
    process ("PyGILState_Release: thread state ... must be current when releasing",
    "Python runtime state: finalizing"), with exit status 134 or 139 after a command that
    succeeded: about one run in a hundred of a replay here (docs/decisions.md, "The exit of
    the `actors` program"). Everything a command owns is closed before it returns; what the
    atexit handlers guard (the embedded server's process, a raw terminal) still runs."""
    try:
        atexit._run_exitfuncs()  # what a normal exit runs first
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":
    console_main()
