"""Shared plumbing for benchmarks: one line of output, best of a few rounds, rounds paired
with Erlang's or alternating between two sides."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from actors import event_loop

T = TypeVar("T")


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


def paired_with_erlang(
    rounds: int, measure: Callable[[], Awaitable[T]], workload: str
) -> list[tuple[T, float | None]]:
    """Run `measure` (one round, in a fresh event loop) and Erlang's `workload` right after
    it, `rounds` times: each of our results with Erlang's rate of the same moment (None
    when Erlang is not installed). This machine's speed drifts by tens of percent over a
    few seconds (docs/performance.md, "Noise"); a pair taken back to back shares the drift."""
    from benchmarks import erlang_baseline

    pairs: list[tuple[T, float | None]] = []
    for _ in range(rounds):
        ours = event_loop.run(measure)
        pairs.append((ours, erlang_baseline.rate(workload)))
    return pairs


def report_against_erlang(name: str, metric: str, pairs: list[tuple[float, float | None]]) -> None:
    """Our best rate, Erlang's best for the same workload and the median of the rounds'
    ratios (issue 8): the median of pairs, not best over best, so one lucky round on either
    side does not make the ratio."""
    report(name, metric, max(ours for ours, _ in pairs))
    ratios = [ours / theirs for ours, theirs in pairs if theirs is not None]
    if not ratios:
        print(f"{name} erlang_{metric} unavailable (install erlang-base)", flush=True)
        return
    report(name, f"erlang_{metric}", max(theirs for _, theirs in pairs if theirs is not None))
    report(name, "ratio_to_erlang", statistics.median(ratios))


async def alternating_rounds(
    rounds: int, sides: Mapping[str, Callable[[], Awaitable[T]]]
) -> list[dict[str, T]]:
    """`rounds` rounds, each running every side once, the side going first alternating: a
    side that always went first would always meet the machine (its caches, the collector's
    debts) as the other left it. Two sides' results of one round share the machine's
    drift, so their ratio is a pair (docs/performance.md, "Noise")."""
    order = list(sides)
    results = []
    for _ in range(rounds):
        results.append({name: await sides[name]() for name in order})
        order.reverse()
    return results
