"""Malformed messages interleaved with good ones, to a workflow and to a local process:
every good message is handled, in order, and nothing crashes. Short form: 500 of each;
soak: 10 000 malformed."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from temporal_host.embedded import EmbeddedServer
from temporal_host.host import WorkflowHost
from temporal_host.protocol import to_payload
from tests.faults.conftest import report, scale

pytestmark = pytest.mark.anyio

APP = Path(__file__).parents[1] / "apps" / "faults"

MALFORMED = [
    ("good", Payload(metadata={"encoding": b"binary/protobuf"}, data=b"\x08\x01")),
    ("good", Payload(metadata={"encoding": b"json/plain"}, data=b"{not json")),
    ("@exit", to_payload({"forged": True})),
    ("good", Payload(metadata={}, data=b"no encoding")),
]


@pytest.fixture
async def runtime(temporal_server: EmbeddedServer) -> AsyncIterator[AppRuntime]:
    prefix = f"m{uuid.uuid4().hex[:6]}-"
    runtime = AppRuntime.load(
        APP,
        overrides=[f"faults:temporal:tq_prefix={prefix}"],
        settings={"temporal_address": temporal_server.address, "ephemeral": True},
    )
    assert not runtime.errors, runtime.errors
    async with runtime.node:
        await runtime.start()
        yield runtime


async def test_a_workflow_handles_every_good_message_among_malformed_ones(
    runtime: AppRuntime,
) -> None:
    good, bad = scale(300, 1000), scale(300, 10_000)
    node = runtime.node
    host = node.host("faults:worker")
    assert isinstance(host, WorkflowHost)
    pid = await node.spawn("faults:worker", SpawnRequest("faults:counter"))
    handle = host.client.get_workflow_handle(pid.id)
    started = time.monotonic()
    sent_good = 0
    for i in range(good + bad):
        # Good messages go out in order, spread among the malformed ones.
        if sent_good < good and i * good // (good + bad) >= sent_good:
            sent_good += 1
            await handle.signal("good", RawValue(to_payload(sent_good)))
        else:
            topic, payload = MALFORMED[i % len(MALFORMED)]
            await handle.signal(topic, RawValue(payload))
    while sent_good < good:
        sent_good += 1
        await handle.signal("good", RawValue(to_payload(sent_good)))
    await handle.signal("stop")
    with anyio.fail_after(120):
        result = await handle.result()
    assert result == good
    report("malformed_to_workflow", "messages", good + bad)
    report("malformed_to_workflow", "seconds", round(time.monotonic() - started, 1))


async def test_a_local_process_handles_every_good_message_among_malformed_sends(
    runtime: AppRuntime,
) -> None:
    count = scale(1000, 10_000)
    node = runtime.node
    started = time.monotonic()
    pid = await node.spawn("faults:processes", SpawnRequest("faults:spammer", (count,)))
    with anyio.fail_after(120):
        event = await node.host("faults:processes").wait_exit(pid)
    assert event.error is None, event.error
    assert event.value == {"refused": count, "good": count}
    report("malformed_to_local", "messages", 2 * count)
    report("malformed_to_local", "seconds", round(time.monotonic() - started, 1))
