"""The module contract inside a workflow: the stock one plus the run's command builder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from lua_bindings.contract import ModuleHost

if TYPE_CHECKING:
    from temporal_host.driver import WorkflowRun


class WorkflowModuleHost(ModuleHost, Protocol):
    """What a workflow variant of a module receives (`WorkflowLuaHost` satisfies it).

    Its clock, timers and randomness are already the workflow's (`time_source`,
    `random_bytes`); `run.commands` turns what reaches outside into Temporal commands.
    """

    @property
    def run(self) -> WorkflowRun: ...
