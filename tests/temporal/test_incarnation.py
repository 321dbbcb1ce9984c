"""A workflow outlives the node boot its requester lived in (issue 12 item 1).

Local PIDs count from 1 on every boot, while a workflow keeps the PIDs it was given. The
requester's PID must not name the process that gets the same counter after a restart: the
boot's incarnation is part of every local PID, so the workflow's reply fails with
`NotFound` and the bystander never sees it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from actors.host import SpawnRequest
from actors.pid import PID
from actors.runtime import AppRuntime
from temporal_host.embedded import EmbeddedServer

pytestmark = pytest.mark.anyio

APP = Path(__file__).parents[1] / "apps" / "incarnation"
PROCESSES = "inc:processes"
WORKER = "inc:worker"
WAIT = 30.0


@contextlib.asynccontextmanager
async def boot(server: EmbeddedServer, prefix: str) -> AsyncIterator[AppRuntime]:
    """One boot of the app's node against the shared server."""
    runtime = AppRuntime.load(
        APP,
        overrides=[f"inc:temporal:tq_prefix={prefix}"],
        settings={"temporal_address": server.address},
    )
    assert not runtime.errors, runtime.errors
    async with runtime.node:
        await runtime.start()
        yield runtime


async def exit_value(runtime: AppRuntime, host: str, pid: PID) -> object:
    with anyio.fail_after(WAIT):
        event = await runtime.node.host(host).wait_exit(pid)
    assert event.error is None, f"{pid} failed: {event.error}"
    return event.value


async def test_a_reply_to_a_requester_of_an_earlier_boot_reaches_nobody(
    temporal_server: EmbeddedServer,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    async with boot(temporal_server, prefix) as first:
        node = first.node
        keeper = await node.spawn(WORKER, SpawnRequest(target="inc:keeper"))
        requester = await node.spawn(
            PROCESSES, SpawnRequest(target="inc:requester", args=(str(keeper),))
        )
        assert await exit_value(first, PROCESSES, requester) == "holding it"

    async with boot(temporal_server, prefix) as second:
        node = second.node
        bystander = await node.spawn(PROCESSES, SpawnRequest(target="inc:bystander"))
        # The very situation of the defect: the same host and counter as the requester.
        assert (bystander.host, bystander.id[:7]) == (requester.host, requester.id[:7])
        assert bystander != requester

        await node.send(None, str(keeper), "release")
        outcome = await exit_value(second, WORKER, keeper)
        assert outcome == {"requester": str(requester), "sent": False, "error_kind": "NotFound"}

        await node.send(None, bystander, "done")
        assert await exit_value(second, PROCESSES, bystander) == {"topic": "done"}
