"""examples/orders: a workflow takes orders, an activity records them in SQLite, settings
come through `env`; and a workflow that tries `require("sql")` is told to use an activity."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from lua_bindings.host import FUNCS_HOST
from temporal_host.embedded import EmbeddedServer

APP = Path(__file__).parents[2] / "examples" / "orders"
WORKER = "orders:worker"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def runtime(
    temporal_server: EmbeddedServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[AppRuntime]:
    mp = pytest.MonkeyPatch()
    mp.setenv("ORDERS_MAX_TOTAL", "500")  # the OS environment wins over the app's defaults
    db_file = tmp_path_factory.mktemp("orders") / "orders.db"
    runtime = AppRuntime.load(
        APP,
        overrides=[f"orders:db:file={db_file}"],
        settings={"temporal_address": temporal_server.address},
    )
    assert not runtime.errors, runtime.errors
    try:
        async with runtime.node:
            await runtime.start()
            yield runtime
    finally:
        mp.undo()


async def run(runtime: AppRuntime, host: str, target: str, *args: Any) -> Any:
    node = runtime.node
    pid = await node.spawn(host, SpawnRequest(target=target, args=args))
    with anyio.fail_after(60):
        event = await node.host(host).wait_exit(pid)
    assert event.error is None, event.error
    return event.value


@pytest.mark.anyio
async def test_orders_are_recorded_by_the_activity(runtime: AppRuntime) -> None:
    order = {"customer": "c-1", "items": [{"sku": "book", "price": 12.5, "qty": 2}]}
    first = await run(runtime, WORKER, "orders:place_order", order)
    assert first == {"status": "accepted", "order_id": 1, "total": 25.0, "currency": "EUR"}
    second = await run(runtime, WORKER, "orders:place_order", {**order, "customer": "c-2"})
    assert second["order_id"] == 2
    too_big = {"customer": "c-3", "items": [{"sku": "car", "price": 900}]}
    rejected = await run(runtime, WORKER, "orders:place_order", too_big)
    assert rejected == {"status": "rejected", "reason": "total 900.00 is over the limit of 500"}
    assert await run(runtime, FUNCS_HOST, "orders:order_count") == {"count": 2, "sum": 50.0}


@pytest.mark.anyio
async def test_a_workflow_may_not_use_sql_but_may_use_hash_and_yaml(runtime: AppRuntime) -> None:
    result = await run(runtime, WORKER, "orders:wrong_workflow")
    assert result["ok"] is False
    assert 'module "sql" cannot be used in a workflow' in result["error"]
    assert "activity" in result["error"]
    assert result["digest"] == hashlib.sha256(b"order").hexdigest() and result["doc"] == 1


@pytest.mark.anyio
async def test_the_place_command(runtime: AppRuntime, capfd: pytest.CaptureFixture[str]) -> None:
    before = await run(runtime, FUNCS_HOST, "orders:order_count")
    assert await run(runtime, "orders:terminal", "orders:place") == 0
    after = await run(runtime, FUNCS_HOST, "orders:order_count")
    assert after["count"] == before["count"] + 1
    out = capfd.readouterr().out
    assert '"status":"accepted"' in out and "orders recorded:" in out
