"""Shared plumbing for benchmarks: one line of output, best of a few rounds."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from actors import event_loop


def report(name: str, metric: str, value: float) -> None:
    print(f"{name} {metric} {value:.6g}", flush=True)


def best_of(rounds: int, measure: Callable[[], Awaitable[float]]) -> float:
    """Run `measure` `rounds` times in fresh event loops (the runtime's: `actors.event_loop`);
    the best rate is the least noisy."""
    return max(event_loop.run(measure) for _ in range(rounds))


class Stopwatch:
    """Wall-clock and CPU time (`time.process_time`: the time this process actually ran)
    from its creation. On a machine shared with other work the CPU-time rate is the one the
    load disturbs least."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def rates(self, count: float) -> tuple[float, float]:
        """`count` per second of wall-clock time and per second of CPU time."""
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        return count / wall, count / max(cpu, 1e-9)


def best_rates(
    rounds: int, measure: Callable[[], Awaitable[tuple[float, float]]]
) -> tuple[float, float]:
    """`best_of` for (wall, CPU) rate pairs: the best of each."""
    results = [event_loop.run(measure) for _ in range(rounds)]
    return max(wall for wall, _ in results), max(cpu for _, cpu in results)


def cpu_metric(metric: str) -> str:
    """The name of a rate's CPU-time twin: `round_trips_per_s` -> `round_trips_per_cpu_s`."""
    return metric.removesuffix("_per_s") + "_per_cpu_s"


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
