"""Hypothesis strategies for scripts of puppet operations.

`operation_scripts()` draws whole scripts (spawns first, then commands among the spawned
puppets) for a plain `@given` test; `run_script` runs one against a host and checks each step
against the model. The state machine (`run_machine`) explores further, since it draws each
command knowing who is alive; these strategies suit a test that wants a fixed shape.
"""

from __future__ import annotations

from hypothesis import strategies as st

from actors.testing.machine import ERROR_KINDS, REASONS, exit_operation
from actors.testing.operations import PAIR_OPS, Operation


def operations(puppets: int) -> st.SearchStrategy[Operation]:
    """One command among puppets `0..puppets-1`."""
    who = st.integers(0, puppets - 1)
    return st.one_of(
        st.builds(Operation, st.sampled_from(PAIR_OPS), who, who),
        st.builds(Operation, st.just("trap"), who, value=st.booleans()),
        st.builds(Operation, st.just("send"), who, who, count=st.integers(1, 3)),
        st.builds(Operation, st.just("cancel"), who, who, reason=st.sampled_from(REASONS)),
        st.builds(exit_operation, who, st.integers(0, 3), st.none() | st.sampled_from(ERROR_KINDS)),
    )


@st.composite
def operation_scripts(
    draw: st.DrawFn, min_puppets: int = 2, max_puppets: int = 4, max_size: int = 12
) -> list[Operation]:
    """Spawns of a few puppets, then up to `max_size` commands among them."""
    count = draw(st.integers(min_puppets, max_puppets))
    commands = draw(st.lists(operations(count), max_size=max_size))
    return [Operation("spawn", p, value="local") for p in range(count)] + commands
