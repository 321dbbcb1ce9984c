"""Links, monitors, trap_links, cancel and terminate against the reference model, on the
Python and Lua hosts, through the public `actors.testing` API only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from actors.testing import (
    LuaPuppets,
    PuppetHost,
    PythonPuppets,
    operation_scripts,
    run_machine,
    run_script,
)
from actors.testing.operations import Operation

ADAPTERS: list[PuppetHost] = [PythonPuppets(), LuaPuppets()]


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda adapter: adapter.name)
def test_links_and_monitors(adapter: PuppetHost, machine_settings: settings) -> None:
    run_machine(adapter, machine_settings)


@settings(max_examples=15, deadline=None)
@given(script=operation_scripts())
def test_drawn_scripts_match_the_model(script: list[Operation]) -> None:
    """The strategy's scripts, for a plain `@given` test: any drawn script runs."""
    run_script(PythonPuppets(), script)
