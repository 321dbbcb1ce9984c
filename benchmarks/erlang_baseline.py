"""Erlang's numbers for the same workloads, measured in the same run (issue 8).

`benchmarks/erlang/bench.erl` is compiled into a temporary directory and run with `erl`
(Debian's `erlang-base`). Used by `lua_pingpong` and `lua_spawn` to print the ratio; when
`erl` is missing the ratio lines say so instead of inventing a number. `distributed_rate`
does the same for `node_pingpong` with two Erlang nodes (`benchmarks/erlang/distbench.erl`).
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SOURCES = sorted((Path(__file__).parent / "erlang").glob("*.erl"))
COUNTS = {"pingpong": 1_000_000, "spawn": 300_000}
DISTRIBUTED_ROUND_TRIPS = 20_000


@functools.cache
def _compiled() -> Path | None:
    if shutil.which("erlc") is None or shutil.which("erl") is None:
        return None
    out = Path(tempfile.mkdtemp(prefix="actors-erl-"))
    subprocess.run(["erlc", "-o", str(out), *map(str, SOURCES)], check=True)
    return out


def rate(workload: str) -> float | None:
    """Best of three rounds, per second; None when Erlang is not installed. `distributed`
    is the ping-pong between two Erlang nodes (`distributed_rate`)."""
    if workload == "distributed":
        return distributed_rate()
    beams = _compiled()
    if beams is None:
        return None
    done = subprocess.run(
        [
            "erl",
            "-noshell",
            "-pa",
            str(beams),
            "-run",
            "bench",
            "main",
            workload,
            str(COUNTS[workload]),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return float(done.stdout.strip())


def idle_spawn_seconds(count: int) -> float | None:
    """CPU seconds for a fresh Erlang VM with one scheduler to spawn `count` processes that
    each block in receive (millisecond resolution); None when Erlang is not installed."""
    beams = _compiled()
    if beams is None:
        return None
    command = ["erl", "-noshell", "+S", "1", "-pa", str(beams), "-run", "bench", "main"]
    done = subprocess.run(
        [*command, "idle", str(count)], check=True, capture_output=True, text=True, timeout=300
    )
    return float(done.stdout.strip())


def distributed_rate() -> float | None:
    """Round trips per second between processes on two Erlang nodes of this machine, best
    of three rounds; None when Erlang is not installed. Starts `epmd` when none runs and
    stops it again (and the peer node) afterwards."""
    beams = _compiled()
    if beams is None:
        return None
    had_epmd = subprocess.run(["epmd", "-names"], capture_output=True).returncode == 0
    suffix = str(os.getpid())
    host = socket.gethostname().split(".")[0]
    erl = ["erl", "-noshell", "-setcookie", f"bench{suffix}", "-pa", str(beams)]
    peer = subprocess.Popen([*erl, "-sname", f"pong{suffix}"], stdin=subprocess.DEVNULL)
    try:
        for _ in range(50):  # until the peer has registered with epmd
            names = subprocess.run(["epmd", "-names"], capture_output=True, text=True)
            if f"pong{suffix}" in names.stdout:
                break
            time.sleep(0.1)
        done = subprocess.run(
            [
                *erl,
                "-sname",
                f"ping{suffix}",
                "-run",
                "distbench",
                "main",
                f"pong{suffix}@{host}",
                str(DISTRIBUTED_ROUND_TRIPS),
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return float(done.stdout.strip())
    finally:
        try:
            peer.wait(10)
        except subprocess.TimeoutExpired:
            peer.kill()
        if not had_epmd:
            subprocess.run(["epmd", "-kill"], capture_output=True)
