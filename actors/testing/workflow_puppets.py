"""The Temporal adapter for the property tests: local Lua puppets next to workflow puppets.

Both kinds run the puppet of `apps/puppets` (the protocol of `puppets.py`): local puppets as
`process.lua` processes on a Lua host, workflow puppets as a `workflow.lua` entry on the
app's Temporal worker, started by the observer (monitored) through the Temporal host. A
workflow puppet obeys the commands a workflow can carry out (`send`, `exit`, `cancel`,
`terminate`, `sync`) and answers `link` / `monitor` with the `Invalid` error of §11.4.

Everything a workflow does reaches the node through the server, so the system is not quiet
when a command has been answered: a local process watching a workflow hears of its end
from a watcher, a long poll of its own. `quiesce` waits for those before the sync round.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from pathlib import Path

import anyio
from temporalio.service import RPCError

from actors.host import SpawnRequest
from actors.node import Node
from actors.pid import PID
from actors.runtime import AppRuntime
from actors.testing.puppets import Harness
from temporal_host.host import WorkflowHost

APP = Path(__file__).parent / "apps" / "workflow_puppets"
NAMESPACE = "wfpuppets"
LOCAL_HOST = f"{NAMESPACE}:processes"
WORKER = f"{NAMESPACE}:worker"
WATCHER_POLL = 0.005
"""Seconds between looks at the watchers while waiting for them to deliver (they expose no
event to await)."""


class WorkflowPuppets:
    """Each machine gets a node of its own (`make_node`): the app booted against `address`,
    with a task-queue prefix of its own so that no workflow of an earlier machine ever
    reaches its worker."""

    name = "workflows"
    timeout = 30.0
    """Starting a workflow or delivering its end goes through the server: allow for load."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.runtime: AppRuntime | None = None
        self.workflows: list[PID] = []

    @property
    def host(self) -> WorkflowHost:
        assert self.runtime is not None, "make_node first"
        host = self.runtime.node.host(WORKER)
        assert isinstance(host, WorkflowHost)
        return host

    def make_node(self) -> Node:
        prefix = f"p{uuid.uuid4().hex[:10]}-"
        self.runtime = AppRuntime.load(
            APP,
            overrides=[f"{NAMESPACE}:temporal:tq_prefix={prefix}"],
            settings={"temporal_address": self.address},
        )
        assert not self.runtime.errors, self.runtime.errors
        self.workflows = []
        node = self.runtime.node
        node.shutdown_grace = 0.0
        return node

    async def boot(self) -> None:
        """Connect and start the worker; the node must be running."""
        assert self.runtime is not None, "make_node first"
        await self.runtime.start(services=False)

    async def spawn_puppet(self, node: Node, observer: PID, label: str) -> PID:
        request = SpawnRequest(
            f"{NAMESPACE}:puppet", (str(observer), label), parent=observer, monitor=True
        )
        return await node.spawn(LOCAL_HOST, request)

    async def spawn_workflow_puppet(self, node: Node, observer: PID, label: str) -> PID:
        request = SpawnRequest(
            f"{NAMESPACE}:workflow_puppet", (str(observer), label), parent=observer, monitor=True
        )
        pid = await node.spawn(WORKER, request)
        self.workflows.append(pid)
        return pid

    async def quiesce(self, harness: Harness, live: Sequence[PID]) -> None:
        """Every watcher of a finished workflow has told its subscribers (its watch is gone
        once it has), then a sync round makes every live puppet report what it got."""
        watchers = self.host.connection.watchers
        finished = [pid for pid in self.workflows if str(pid) in harness.log.exited]
        with anyio.move_on_after(self.timeout):
            while any(watchers.watching(pid) for pid in finished):
                await anyio.sleep(WATCHER_POLL)
        pending = [str(pid) for pid in finished if watchers.watching(pid)]
        assert not pending, f"watchers of {pending} did not deliver within {self.timeout}s"
        await harness.sync(live)

    async def cleanup(self, live: Sequence[PID]) -> None:
        """Leave no workflow puppet running on the server after the machine ends. One that
        has ended already (a failing example may be failing because it did) is skipped."""
        for pid in live:
            if pid in self.workflows:
                with contextlib.suppress(RPCError):
                    await self.host.client.get_workflow_handle(pid.id).terminate(reason="test over")
