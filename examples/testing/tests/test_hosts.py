"""Our host against the link/monitor model of actors.testing, and the broken one."""

from __future__ import annotations

import pytest
from hosts import AuditedPuppets, trap_ignoring_puppets
from hypothesis import settings

from actors.testing import DEFAULT_SETTINGS, Counterexample, run_machine, run_script

QUICK = settings(DEFAULT_SETTINGS, max_examples=40, database=None)


def test_our_host_behaves_like_the_model() -> None:
    run_machine(AuditedPuppets(), QUICK)


def test_the_machine_finds_and_shrinks_the_broken_host() -> None:
    # Short runs shrink fast; derandomized, so the same counterexample every time.
    search = settings(
        QUICK, max_examples=100, stateful_step_count=6, derandomize=True, report_multiple_bugs=False
    )
    with pytest.raises(Counterexample) as found:
        run_machine(trap_ignoring_puppets(), search)
    failure = found.value
    print(failure)  # shown with `pytest -s`: the shrunk script, seen against expected
    # Shrunk to the essence: a puppet traps links, is linked, and its peer fails.
    names = [op.name for op in failure.script]
    assert "trap" in names and "link" in names, failure.script
    assert len(failure.script) <= 6, failure.script
    assert "seen" in failure.problem and "expected" in failure.problem
    # The script replays the failure deterministically.
    with pytest.raises(Counterexample):
        run_script(trap_ignoring_puppets(), failure.script)
