"""What every subcommand does: load the app, boot it on a node, report load problems."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio

from actors.errors import Error
from actors.runtime import AppRuntime

T = TypeVar("T")


class UsageError(Exception):
    """A mistake in how the command was called; printed without a traceback."""


def load_runtime(args: argparse.Namespace, **settings: Any) -> AppRuntime:
    app_dir = Path(args.app_dir)
    if not app_dir.is_dir():
        raise UsageError(f"app folder not found: {app_dir}")
    if getattr(args, "temporal_address", None):
        settings["temporal_address"] = args.temporal_address
    runtime = AppRuntime.load(app_dir, overrides=args.override, settings=settings)
    for problem in runtime.errors:
        print(f"warning: {problem}", file=sys.stderr)
    return runtime


def run_booted(
    runtime: AppRuntime, body: Callable[[AppRuntime], Awaitable[T]], *, services: bool = True
) -> T:
    """Boot `runtime` on its node, run `body`, shut down cleanly (CANCEL, then terminate).

    A failure while booting (a Temporal client that cannot connect, say) surfaces as the
    error itself, not as the task group's exception group, so the CLI can print it plainly.
    """

    async def main() -> T:
        async with runtime.node:
            await runtime.start(services=services)
            return await body(runtime)

    try:
        return anyio.run(main)
    except BaseExceptionGroup as group:
        raise _sole_error(group) from None


def _sole_error(group: BaseExceptionGroup) -> BaseException:
    """The one exception inside nested single-member groups, else the group itself."""
    while len(group.exceptions) == 1:
        inner = group.exceptions[0]
        if not isinstance(inner, BaseExceptionGroup):
            return inner
        group = inner
    return group


def describe_error(error: Error) -> str:
    kind = f"[{error.kind}] " if error.kind else ""
    return f"{kind}{error}"


def find_entry(runtime: AppRuntime, name: str, kinds: tuple[str, ...]) -> str:
    """An entry id, or the entry whose `meta.command.name` is `name`."""
    registry = runtime.app.registry
    entry = registry.get(name)
    if entry is None:
        matches = [e for e in registry.find({"meta.command.name": name}) if e.kind in kinds]
        if not matches:
            raise UsageError(f"no entry or command named {name!r}")
        entry = matches[0]
    if entry.kind not in kinds:
        raise UsageError(f"{entry.id} is a {entry.kind}; expected {' or '.join(kinds)}")
    return entry.id
