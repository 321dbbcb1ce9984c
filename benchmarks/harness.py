"""Shared plumbing for benchmarks: one line of output, best of a few rounds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio


def report(name: str, metric: str, value: float) -> None:
    print(f"{name} {metric} {value:.6g}", flush=True)


def best_of(rounds: int, measure: Callable[[], Awaitable[float]]) -> float:
    """Run `measure` `rounds` times in fresh event loops; the best rate is the least noisy."""
    return max(anyio.run(measure) for _ in range(rounds))


def report_against_erlang(name: str, metric: str, ours: float, workload: str) -> None:
    """Our rate, Erlang's for the same workload measured now, and the ratio (issue 8)."""
    from benchmarks import erlang_baseline

    report(name, metric, ours)
    theirs = erlang_baseline.rate(workload)
    if theirs is None:
        print(f"{name} erlang_{metric} unavailable (install erlang-base)", flush=True)
        return
    report(name, f"erlang_{metric}", theirs)
    report(name, "ratio_to_erlang", ours / theirs)
