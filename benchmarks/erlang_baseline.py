"""Erlang's numbers for the same workloads, measured in the same run (issue 8).

`benchmarks/erlang/bench.erl` is compiled into a temporary directory and run with `erl`
(Debian's `erlang-base`). Used by `lua_pingpong` and `lua_spawn` to print the ratio; when
`erl` is missing the ratio lines say so instead of inventing a number.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).parent / "erlang" / "bench.erl"
COUNTS = {"pingpong": 1_000_000, "spawn": 300_000}


@functools.cache
def _compiled() -> Path | None:
    if shutil.which("erlc") is None or shutil.which("erl") is None:
        return None
    out = Path(tempfile.mkdtemp(prefix="actors-erl-"))
    subprocess.run(["erlc", "-o", str(out), str(SOURCE)], check=True)
    return out


def rate(workload: str) -> float | None:
    """Best of three rounds, per second; None when Erlang is not installed."""
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
