"""The faults suite (issue 12, "Faults, measured in tests"): `make test` runs its short form,
`make soak` (ACTORS_SOAK=1) the full one. Every test prints `fault name metric value` lines;
run with `-s` to see them (`make soak` does)."""

from __future__ import annotations

import os

SOAK = os.environ.get("ACTORS_SOAK") == "1"


def scale(short: int, full: int) -> int:
    return full if SOAK else short


def report(name: str, metric: str, value: float | int | str) -> None:
    print(f"fault {name} {metric} {value}")
