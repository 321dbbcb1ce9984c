"""Shared plumbing for benchmarks: one line of output, best of a few rounds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio


def report(name: str, metric: str, value: float) -> None:
    print(f"{name} {metric} {value:.6g}", flush=True)


def best_of(rounds: int, measure: Callable[[], Awaitable[float]]) -> float:
    """Run `measure` `rounds` times in fresh event loops; the best rate is the least noisy."""
    return max(anyio.run(measure) for _ in range(rounds))
