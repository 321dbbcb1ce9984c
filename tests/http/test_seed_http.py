"""The workflow description's HTTP handler (`examples/seed`, "Из HTTP-обработчиков"), driven
by a real HTTP client: a new order starts its workflow (202 with the workflow id), the same
order again is refused by the `fail` conflict policy (409)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from temporalio.api.enums.v1 import EventType

from temporal_host import protocol
from temporal_host.embedded import EmbeddedServer
from tests.temporal.test_seed_examples import (
    SeedApp,
    booted_seed_app,
    register_search_attributes,
    search_attribute_types,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def seed(temporal_server: EmbeddedServer) -> AsyncIterator[SeedApp]:
    async with booted_seed_app(temporal_server.address) as app:
        types = search_attribute_types(app.runtime)
        await register_search_attributes(app.client, types)
        yield app


async def test_post_order_starts_the_workflow_and_a_repeat_conflicts(seed: SeedApp) -> None:
    gateway = seed.runtime.extensions["http_servers"]["app:gateway"]
    route = gateway.table.match("POST", "/orders").route
    assert route is not None and route.endpoint.func == "app:http_handler"
    order = {"id": uuid.uuid4().hex[:8], "total": 10.5, "customer_id": "c-http"}
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
        first = await client.post("/orders", json=order, headers={"X-Request-ID": "req-1"})
        assert first.status_code == 202, first.text
        workflow_id = f"order-{order['id']}"
        assert first.json() == {
            "workflow_id": f"{{app:temporal_client@app:worker|{workflow_id}}}",
            "status": "started",
        }
        again = await client.post("/orders", json=order)
        assert again.status_code == 409, again.text
        assert workflow_id in again.json()["error"]
        assert "already" in again.json()["error"].lower()
    handle = seed.client.get_workflow_handle(workflow_id)
    with anyio.fail_after(30):
        description = await handle.describe()
    assert description.workflow_type == "app:order_workflow"
    # the handler's `with_context` reached the workflow: the request id is in its start header
    started = await seed.first_event(workflow_id, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    header = started.workflow_execution_started_event_attributes.header.fields
    assert protocol.read_context(header) == ({"request_id": "req-1"}, None)
    await seed.terminate(workflow_id)
