"""Where a Lua workflow's extra CPU goes: `workflow_throughput`'s rounds under `perf`.

cProfile sees Python only, hides the time spent in Lua and inflates both, so it cannot say
how much of the gap between a Lua one-activity workflow and its Python twin is the Lua
interpreter. This samples the whole process with `perf record` (call graphs, CLOCK_MONOTONIC
timestamps) while it runs the same alternating rounds as `workflow_throughput`, assigns
each sample to the side whose round was running, and prints the CPU per workflow by thread
and by library, Lua side minus Python twin (docs/performance.md, "Where the last
millisecond goes").

Not part of `python -m benchmarks all`: it needs `perf` (Debian's `linux-perf`) and
`kernel.perf_event_paranoid` ≤ 2. Run `python -m benchmarks.workflow_cpu_split`.
"""

from __future__ import annotations

import collections
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio

from benchmarks.harness import alternating_rounds, report
from benchmarks.workflow_throughput import WORKFLOWS, Run, rate, warm_sides

ROUNDS = 6
HZ = 1000


class PerfFailed(Exception):
    """`perf record` left no data (not installed right, or not allowed to attach)."""


Round = tuple[str, float, float]
"""(side, start, end) on CLOCK_MONOTONIC, perf's clock with `-k CLOCK_MONOTONIC`."""


async def timed(run: Run) -> tuple[float, float]:
    """One side's round of WORKFLOWS: when it started and ended (CLOCK_MONOTONIC)."""
    start = time.monotonic()
    await rate(*run, WORKFLOWS)
    return start, time.monotonic()


async def rounds_under_perf(data: Path) -> list[Round]:
    """Warm both sides up, then run ROUNDS alternating rounds while perf samples us."""
    rounds: list[Round] = []
    async with warm_sides() as warm:
        record = ["perf", "record", "-q", "-k", "CLOCK_MONOTONIC", "-F", str(HZ), "-g"]
        perf = subprocess.Popen(
            [*record, "-p", str(os.getpid()), "-o", str(data)], stderr=subprocess.PIPE
        )
        await anyio.sleep(1)  # perf attaches to every thread before the first round
        try:
            timed_sides = {name: functools.partial(timed, run) for name, run in warm.runs.items()}
            for spans in await alternating_rounds(ROUNDS, timed_sides):
                rounds += [(side, start, end) for side, (start, end) in spans.items()]
        finally:
            perf.send_signal(signal.SIGINT)  # perf writes its data and exits
            _, err = perf.communicate()
    if not data.exists():
        raise PerfFailed(err.decode(errors="replace").strip() or f"exit {perf.returncode}")
    return rounds


def samples(data: Path) -> Iterator[tuple[str, int, float, list[str]]]:
    """(command, thread id, time, the libraries of the call chain, leaf first) per sample."""
    script = subprocess.run(
        ["perf", "script", "-i", str(data), "-F", "comm,tid,time,ip,dso"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for block in script.split("\n\n"):
        lines = block.strip("\n").splitlines()
        if not lines:
            continue
        head = lines[0].split()
        # `python 123 456.789:`, the command first (its name has no blanks here)
        comm, tid, at = head[0], int(head[1]), float(head[2].rstrip(":"))
        dsos = [line.rsplit("(", 1)[-1].rstrip(")").rsplit("/", 1)[-1] for line in lines[1:]]
        yield comm, tid, at, dsos


def where(comm: str, tid: int, dsos: list[str], main_tid: int) -> tuple[str, str]:
    """(thread, library) of a sample. Lua counts with its callees (lupa calls back into
    Python and libc); every other library by the leaf frame."""
    if tid == main_tid:
        thread = "event_loop"
    elif comm == "python":
        thread = "workflow_threads"  # Python threads keep the process's name
    else:
        thread = "sdk_core"
    leaf = dsos[0] if dsos else "?"
    if any(dso.startswith("lua") for dso in dsos):
        library = "lua"
    elif leaf.startswith("libpython"):
        library = "python"
    elif leaf.startswith(("libc.", "libm.")):
        library = "libc"
    elif leaf.startswith("[kernel"):
        library = "kernel"
    elif leaf.startswith("temporal_sdk_bridge"):
        library = "sdk_rust"
    else:
        library = "other"
    return thread, library


def split(data: Path, rounds: list[Round], main_tid: int) -> dict[str, dict[str, float]]:
    """CPU ms per workflow of each side, by `thread.library` and in `total`."""
    counts: dict[str, collections.Counter[str]] = {
        side: collections.Counter() for side, *_ in rounds
    }
    for comm, tid, at, dsos in samples(data):
        side = next((s for s, start, end in rounds if start <= at < end), None)
        if side is None:
            continue
        thread, library = where(comm, tid, dsos, main_tid)
        counts[side][f"{thread}.{library}"] += 1
        counts[side]["total"] += 1
    ms_per_sample = 1000 / HZ
    workflows = {side: WORKFLOWS * sum(1 for s, *_ in rounds if s == side) for side in counts}
    return {
        side: {key: n * ms_per_sample / workflows[side] for key, n in counter.items()}
        for side, counter in counts.items()
    }


def main() -> None:
    if shutil.which("perf") is None:
        raise SystemExit("workflow_cpu_split needs perf (apt-get install linux-perf)")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "perf.data"
        try:
            rounds = anyio.run(rounds_under_perf, data)
        except PerfFailed as exc:
            raise SystemExit(f"perf record failed: {exc}") from None
        ms = split(data, rounds, threading.get_native_id())  # main() runs on the main thread
    lua, native = ms["lua"], ms["native"]
    report("workflow_cpu_split", "lua_ms_per_workflow", lua["total"])
    report("workflow_cpu_split", "native_ms_per_workflow", native["total"])
    for key in sorted(set(lua) | set(native), key=lambda k: native.get(k, 0) - lua.get(k, 0)):
        if key != "total":
            report("workflow_cpu_split", f"extra_ms.{key}", lua.get(key, 0) - native.get(key, 0))


if __name__ == "__main__":
    main()
