"""Testing toolkit: the link/monitor reference model and state machines, replay checks,
and a pytest plugin (`actors.testing.pytest_plugin`) for an app's Lua test entries.

Check a host against the model of lua-api §4.4–4.6:

    from actors.testing import PythonPuppets, run_machine
    run_machine(PythonPuppets())

A custom host provides a `PuppetHost` adapter (the puppet protocol is in `puppets.py`). A
difference from the model raises `Counterexample`, whose message is the shrunk script of
operations and what was seen against what was expected. Replay checks are
`actors.testing.replay` (and `actors replay` on the command line).
"""

from actors.testing.app import BootedApp, Mailbox, TemporalEnv
from actors.testing.lua_puppets import LuaPuppets
from actors.testing.machine import (
    DEFAULT_SETTINGS,
    Counterexample,
    LinksMonitors,
    PuppetMachine,
    run_machine,
    run_script,
)
from actors.testing.model import Death, Model, Step
from actors.testing.operations import Operation
from actors.testing.puppets import (
    Harness,
    PuppetHost,
    PythonPuppets,
    error_dict,
    event_report,
    python_puppet,
)
from actors.testing.replays import (
    Divergence,
    History,
    NondeterminismFound,
    ReplayResult,
    fetch_history,
    load_history,
    record_histories,
    recorded_outcome,
    replay,
    replay_async,
    save_history,
)
from actors.testing.strategies import operation_scripts, operations

__all__ = [
    "DEFAULT_SETTINGS",
    "BootedApp",
    "Counterexample",
    "Death",
    "Divergence",
    "Harness",
    "History",
    "LinksMonitors",
    "LuaPuppets",
    "Mailbox",
    "Model",
    "NondeterminismFound",
    "Operation",
    "PuppetHost",
    "PuppetMachine",
    "PythonPuppets",
    "ReplayResult",
    "Step",
    "TemporalEnv",
    "error_dict",
    "event_report",
    "fetch_history",
    "load_history",
    "operation_scripts",
    "operations",
    "python_puppet",
    "record_histories",
    "recorded_outcome",
    "replay",
    "replay_async",
    "run_machine",
    "run_script",
    "save_history",
]
