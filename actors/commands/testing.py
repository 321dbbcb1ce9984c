"""Run the app's test entries (`meta.type: test`) whose id contains any PATTERN.

A test is an entry with `meta.type: test` (usually a `function.lua`). It runs as a function
call would: an error raised or returned, or a result of `false`, fails it; anything else
passes. `meta.skip` (true or a reason) skips it. Tests are grouped by `meta.suite` and run in
`meta.order`, then id order, one at a time, each with its own timeout.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from typing import Any, TextIO

import anyio
import attrs

from actors.commands.common import (
    UsageError,
    add_app_options,
    describe_error,
    load_runtime,
    run_booted,
)
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from actors.kinds import default_host
from actors.registry import Entry
from actors.runtime import AppRuntime

NAME = "test"
HELP = "run the app's test entries (meta.type: test)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_dir", metavar="APP_DIR")
    parser.add_argument("patterns", metavar="PATTERN", nargs="*")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per test (30)")
    parser.add_argument(
        "--record",
        metavar="DIR",
        help="save the history of every workflow the tests ran into DIR (golden histories "
        "for `actors replay`)",
    )
    add_app_options(parser)


@attrs.frozen
class Outcome:
    entry: Entry
    status: str  # "passed" | "failed" | "skipped"
    detail: str = ""
    seconds: float = 0.0
    error: Error | None = None
    """The test's error, with its Lua stack, when it raised or returned one."""


def select_tests(runtime: AppRuntime, patterns: list[str]) -> dict[str, list[Entry]]:
    """Test entries matching any pattern (substring of the id), grouped by suite, ordered."""
    suites: dict[str, list[Entry]] = defaultdict(list)
    for entry in runtime.app.registry.find({"meta.type": "test"}):
        if patterns and not any(p in entry.id for p in patterns):
            continue
        suites[str(entry.meta.get("suite") or "")].append(entry)
    for entries in suites.values():
        entries.sort(key=lambda e: (_order(e), e.id))
    return dict(sorted(suites.items()))


def _order(entry: Entry) -> float:
    try:
        return float(entry.meta.get("order", 0))
    except (TypeError, ValueError):
        return 0.0


def judge(value: Any, error: Error | None) -> tuple[str, str]:
    if error is not None:
        return "failed", describe_error(error)
    if value is False:
        return "failed", "returned false"
    return "passed", ""


async def run_test(runtime: AppRuntime, entry: Entry, timeout: float) -> Outcome:
    skip = entry.meta.get("skip")
    if skip:
        return Outcome(entry, "skipped", skip if isinstance(skip, str) else "")
    node = runtime.node
    started = time.monotonic()
    try:
        host_name = default_host(runtime.plugins, entry, runtime.app.registry)
        pid = await node.spawn(host_name, SpawnRequest(target=entry.id))
    except ActorError as exc:
        return Outcome(entry, "failed", f"could not start: {describe_error(exc.error)}")
    host = node.host(host_name)
    with anyio.move_on_after(timeout):
        event = await host.wait_exit(pid)
        status, detail = judge(event.value, event.error)
        return Outcome(entry, status, detail, time.monotonic() - started, event.error)
    await node.terminate(None, pid)
    return Outcome(entry, "failed", f"timed out after {timeout:g}s", time.monotonic() - started)


async def run_all(
    runtime: AppRuntime, suites: dict[str, list[Entry]], timeout: float, out: TextIO
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for suite, entries in suites.items():
        print(f"{suite or '(no suite)'}", file=out, flush=True)
        for entry in entries:
            outcome = await run_test(runtime, entry, timeout)
            outcomes.append(outcome)
            mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[outcome.status]
            name = entry.meta.get("name") or entry.id
            took = f" ({outcome.seconds * 1000:.0f} ms)" if outcome.status != "skipped" else ""
            print(f"  {mark} {name}{took}", file=out, flush=True)
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    counts = {s: sum(o.status == s for o in outcomes) for s in ("passed", "failed", "skipped")}
    line = f"{counts['passed']} passed, {counts['failed']} failed"
    if counts["skipped"]:
        line += f", {counts['skipped']} skipped"
    return line


def command(args: argparse.Namespace) -> int:
    # ephemeral: an embedded Temporal server keeps test state in memory, not in the app.
    runtime = load_runtime(args, command_mode=True, ephemeral=True)
    runtime.node.shutdown_grace = 1.0
    suites = select_tests(runtime, list(args.patterns))
    out = sys.stdout
    if not suites:
        raise UsageError(f"no test entry in {args.app_dir} matches")

    async def body(runtime: AppRuntime) -> list[Outcome]:
        outcomes = await run_all(runtime, suites, args.timeout, out)
        if args.record:
            from actors.testing.replays import record_histories

            saved = await record_histories(runtime, args.record)
            print(f"recorded {len(saved)} workflow histories in {args.record}", file=out)
        return outcomes

    outcomes = run_booted(runtime, body)
    failures = [o for o in outcomes if o.status == "failed"]
    if failures:
        print("\nfailures:", file=out)
        for outcome in failures:
            print(f"  {outcome.entry.id}: {outcome.detail}", file=out)
    print(summary(outcomes), file=out)
    return 1 if failures else 0
