"""Local processes and workflows together against the model of temporal.md §11–12, through
the public `actors.testing` API: `run_workflow_machine` on one embedded dev server."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from hypothesis import settings

from actors.testing.workflow_machine import WORKFLOW_SETTINGS, run_workflow_machine
from temporal_host.embedded import EmbeddedServer

NIGHTLY = {"max_examples": 300, "stateful_step_count": 60}


@pytest.fixture(scope="session")
def workflow_server() -> Iterator[EmbeddedServer]:
    """One in-memory dev server for the session: every machine brings its own worker and
    task-queue prefix, so examples never see each other's workflows."""
    server = EmbeddedServer()
    anyio.run(server.start)
    try:
        yield server
    finally:
        anyio.run(server.stop)


@pytest.fixture
def workflow_settings(machine_settings: settings) -> settings:
    """The selected profile (`ci` or `nightly`) with this machine's example counts."""
    name = settings.get_current_profile_name().split("-with-")[0]
    if name == "nightly":
        return settings(machine_settings, **NIGHTLY)
    return settings(
        machine_settings,
        max_examples=WORKFLOW_SETTINGS.max_examples,
        stateful_step_count=WORKFLOW_SETTINGS.stateful_step_count,
    )


def test_links_and_monitors_with_workflows(
    workflow_server: EmbeddedServer, workflow_settings: settings
) -> None:
    run_workflow_machine(workflow_server.address, workflow_settings)
