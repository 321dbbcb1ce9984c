"""What every subcommand does: load the app, boot it on a node, stop it on a signal.

A command module exposes `NAME`, `HELP`, `configure(parser)` (its own options; the common
ones are added by `actors.cli`) and `command(args) -> int`. It may expose
`parse(parser, argv)` when plain intermixed parsing does not fit (`actors run` hands the
words after its entry to the process).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio

from actors import event_loop
from actors.cluster.settings import ClusterSettings
from actors.errors import ActorError, Error, sole_exception
from actors.kinds import default_host
from actors.node import Node
from actors.registry import Entry
from actors.runtime import AppRuntime, LoadFailure

T = TypeVar("T")

log = logging.getLogger("actors")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""SIGTERM is what `docker stop`, systemd and Kubernetes send: it stops a node exactly as
Ctrl-C does (local processes get CANCEL, workers stop polling, the embedded server stops)."""


class UsageError(Exception):
    """A mistake in how the command was called or in the app folder; exit code 2."""


class Stopped(Exception):
    """The command was stopped by a signal before it finished (exit code 128 + signal)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def add_app_options(parser: argparse.ArgumentParser) -> None:
    """The options of every command that loads an app folder."""
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
    parser.add_argument(
        "--node",
        metavar="NAME",
        default=os.environ.get("ACTORS_NODE") or None,
        help="this node's name in the cluster (env ACTORS_NODE)",
    )
    parser.add_argument(
        "--cluster",
        metavar="URL",
        default=os.environ.get("ACTORS_CLUSTER") or None,
        help="join the nodes at this nats:// URL, or 'embedded' to start nats-server under "
        ".actors/ (env ACTORS_CLUSTER)",
    )


def make_node(args: argparse.Namespace, app_dir: Path) -> Node:
    """The node of `--node` / `--cluster`: a plain node without them (nothing changes)."""
    cluster, name = getattr(args, "cluster", None), getattr(args, "node", None)
    if not cluster:
        if name:
            raise UsageError("--node NAME needs --cluster URL|embedded (or ACTORS_CLUSTER)")
        return Node()
    if not name:
        raise UsageError("--cluster needs --node NAME (or ACTORS_NODE)")
    store = str(app_dir / ".actors" / "nats")
    try:
        return Node(cluster=ClusterSettings(node=name, url=cluster, store_dir=store))
    except ActorError as exc:
        raise UsageError(str(exc)) from None


def load_runtime(args: argparse.Namespace, **settings: Any) -> AppRuntime:
    """Load the app folder named by `args.app_dir`.

    A folder that is missing, holds no entries, or has a file that cannot be read as an app
    definition (malformed YAML, a bad namespace) is a `UsageError`: running the rest would
    run a different app than the one the user wrote. A problem in one entry is a warning and
    the other entries still run (lua-api §2.1).
    """
    app_dir = Path(args.app_dir)
    if not app_dir.is_dir():
        raise UsageError(f"app folder not found: {app_dir}")
    if getattr(args, "temporal_address", None):
        settings["temporal_address"] = args.temporal_address
    try:
        runtime = AppRuntime.load(
            app_dir,
            overrides=args.override,
            settings=settings,
            log_problems=False,
            node=make_node(args, app_dir),
        )
        runtime.check()
    except (ActorError, LoadFailure) as exc:
        raise UsageError(str(exc)) from None
    for problem in [*runtime.errors, *runtime.app.warnings]:
        log.warning("%s", problem)
    return runtime


def run_booted(
    runtime: AppRuntime,
    body: Callable[[AppRuntime], Awaitable[T]],
    *,
    services: bool = True,
) -> T:
    """Boot `runtime` on its node, run `body`, shut down cleanly (CANCEL, then terminate).

    SIGINT and SIGTERM cancel `body` and shut the node down the same way, then raise
    `Stopped`; a second signal during that shutdown exits at once. A failure while booting
    (a Temporal client that cannot connect, say) surfaces as the error itself, not as the
    task group's exception group, so the CLI can print it plainly.
    """
    received: list[int] = []

    async def main() -> T:
        async with runtime.node:
            with anyio.CancelScope() as scope:
                if threading.current_thread() is threading.main_thread():
                    runtime.node.start_soon(_watch_signals, scope, received)
                await runtime.start(services=services)
                return await body(runtime)
        raise Stopped(received[0])  # only the signal watcher cancels `scope`

    try:
        return event_loop.run(main)
    except BaseExceptionGroup as group:
        raise sole_exception(group) from None


async def _watch_signals(scope: anyio.CancelScope, received: list[int]) -> None:
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        async for signum in signals:
            name = signal.Signals(signum).name
            if received:
                print(f"actors: {name} again, exiting now", file=sys.stderr, flush=True)
                os._exit(128 + signum)
            received.append(signum)
            print(f"actors: {name}, stopping", file=sys.stderr, flush=True)
            scope.cancel()


def describe_error(error: Error) -> str:
    kind = f"[{error.kind}] " if error.kind else ""
    return f"{kind}{error}"


def find_entry(runtime: AppRuntime, name: str, kinds: frozenset[str]) -> Entry:
    """An entry by id, or the entry whose `meta.command.name` is `name`, of one of `kinds`."""
    registry = runtime.app.registry
    entry = registry.get(name)
    if entry is None:
        matches = [e for e in registry.find({"meta.command.name": name}) if e.kind in kinds]
        if not matches:
            raise UsageError(f"no entry or command named {name!r}")
        entry = matches[0]
    if entry.kind not in kinds:
        expected = " or ".join(sorted(kinds)) or "nothing runnable (no plugin installed)"
        raise UsageError(f"{entry.id} is a {entry.kind}; expected {expected}")
    return entry


def host_for(runtime: AppRuntime, entry: Entry, named: str | None = None) -> str:
    """The host `entry` runs on: the one named by the caller, else its plugin's default."""
    if named:
        return named
    try:
        return default_host(runtime.plugins, entry, runtime.app.registry)
    except ActorError as exc:
        raise UsageError(exc.error.message) from None
