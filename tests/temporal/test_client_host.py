"""The client side of the Temporal host, driven from Lua processes (temporal.md §2–4, 11, 12).

A real dev server runs for the module; each test boots `tests/apps/temporal_client` against
it with its own task-queue prefix. Scenario tests run twice: with the app's workflow types
served by Python stand-ins (tests/temporal/helpers.py, which also show what arrives in the
headers) and by the Lua workflow driver, through the app's own worker.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.streams.text import TextReceiveStream
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from actors.errors import ActorError
from actors.host import SpawnRequest
from actors.pid import PID
from actors.registry import Entry
from actors.runtime import AppRuntime
from temporal_host import watchers
from temporal_host.connection import ClientSettings, Connection
from temporal_host.embedded import EmbeddedServer
from temporal_host.protocol import DATA_CONVERTER
from tests.temporal.helpers import APP, TASK_QUEUE, WORKER, App, booted_app

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def temporal_server() -> Iterator[EmbeddedServer]:
    """One in-memory dev server for the module. It is a child process, so tests running on
    different event loops can share it; it is started and stopped outside them."""
    server = EmbeddedServer()
    anyio.run(server.start)
    try:
        yield server
    finally:
        anyio.run(server.stop)


@pytest.fixture(params=["python", "lua"])
async def app(
    request: pytest.FixtureRequest, temporal_server: EmbeddedServer
) -> AsyncIterator[App]:
    """The test app; its workflows served by the Python stand-ins or by the Lua driver."""
    async with booted_app(temporal_server, python_workflows=request.param == "python") as app:
        yield app


async def test_spawn_monitored_exit_with_value(app: App) -> None:
    out = await app.value("spawn_monitored")
    assert out["kind"] == "pid.exit"
    assert out["from"] == out["pid"]
    assert out["pid"].startswith("{tc:temporal@tc:worker|")
    assert out["value"] == {"value": 42}
    assert out.get("err_kind") is None


async def test_spawn_monitored_exit_with_error(app: App) -> None:
    out = await app.value("spawn_failing")
    assert out["kind"] == "pid.exit"
    assert out["from"] == out["pid"]
    assert out.get("value") is None
    assert (out["err_kind"], out["err_message"], out["err_retryable"]) == (
        "NotFound",
        "no such order",
        False,
    )


async def test_monitor_after_start(app: App) -> None:
    out = await app.value("monitor_after")
    assert (out["kind"], out["from"], out["value"]) == ("pid.exit", out["pid"], "later")


async def test_with_name_dedups_and_still_delivers_messages(app: App) -> None:
    out = await app.value("with_name")
    assert out["first"] == out["second"] == f"{{tc:temporal@tc:worker|named-{app.uid}}}"
    value = out["value"]
    assert value["input"] == {"n": 1}  # the second spawn's arguments are ignored
    assert [(m["topic"], m["value"]) for m in value["messages"]] == [("m", 1), ("m", 2)]


async def test_explicit_workflow_id(app: App) -> None:
    out = await app.value("explicit_id")
    assert out["pid"] == f"{{tc:temporal@tc:worker|{out['id']}}}"
    assert out["value"] == {"id": out["id"]}


async def test_conflict_policies(app: App) -> None:
    out = await app.value("conflicts")
    first = out["first"]
    assert out["fail"].get("pid") is None
    assert out["fail"]["kind"] == "AlreadyExists"
    assert out["fail"]["retryable"] is False
    assert f"conflict-{app.uid}" in out["fail"]["message"]
    assert out["flag"] == {"kind": "AlreadyExists"}
    assert out["existing"] == first
    assert out["replaced"] == first
    # The monitor of the first spawn follows the run it started: terminated by the third.
    first_exit = out["first_exit"]
    assert (first_exit["from"], first_exit["err_kind"], first_exit["err_message"]) == (
        first,
        "Canceled",
        "workflow terminated",
    )
    assert out["second_exit"]["value"]["input"] == {"run": 2}


async def test_startup_messages_arrive_in_order_before_later_sends(app: App) -> None:
    out = await app.value("startup_order")
    messages = out["value"]["messages"]
    assert [(m["topic"], m["value"]) for m in messages] == [
        ("a", 1),
        ("b", {"x": 2}),
        ("c", "three"),
        ("d", 4),
    ]
    assert {m["from"] for m in messages} == {out["me"]}  # msg:from() is the spawner
    assert out["value"]["input"] == "input"


async def test_context_reaches_the_workflow_without_the_sender(app: App) -> None:
    out = await app.value("with_context")
    assert out["value"]["context"] == {"user_id": "user-1", "tenant": "tenant-1"}


async def test_send_to_unknown_or_finished_workflow_is_not_found(app: App) -> None:
    out = await app.value("send_not_found")
    unknown = out["unknown"]
    assert unknown.get("ok") is None
    assert (unknown["kind"], unknown["retryable"]) == ("NotFound", False)
    assert unknown["message"] == f"workflow not found: missing-{app.uid}"
    assert out["finished"]["kind"] == "NotFound"
    assert "not found" in out["finished"]["message"]


async def test_link_with_trap_links_gets_link_down_on_terminate(app: App) -> None:
    out = await app.value("link_terminate")
    assert (out["kind"], out["from"]) == ("pid.link.down", out["pid"])
    assert (out["err_kind"], out["err_message"]) == ("Canceled", "workflow terminated")


async def test_link_gets_exit_on_success(app: App) -> None:
    out = await app.value("link_success")
    assert (out["kind"], out["from"]) == ("pid.exit", out["pid"])
    assert out["value"]["input"] == "linked"
    assert not app.host.connection.watchers.watching(PID.parse(out["pid"]))


async def test_link_without_trap_links_kills_the_local_process(app: App) -> None:
    out = await app.value("link_untrapped")
    assert (out["kind"], out["from"]) == ("pid.exit", out["victim"])
    assert out["err_kind"] == "Canceled"
    assert out["err_message"] == f"linked process failed: {out['wf']}"


async def test_local_process_death_leaves_the_workflow_running(app: App) -> None:
    out = await app.value("local_death")
    assert out["victim_exit"]["err_message"].endswith("boom")
    assert (out["kind"], out["from"], out.get("err_kind")) == ("pid.exit", out["wf"], None)
    assert out["value"]["input"] == "victim"


async def test_no_event_after_unmonitor_and_unlink(app: App) -> None:
    out = await app.value("released")
    assert not app.host.connection.watchers._watches
    assert out == {"got_event": False}


async def test_terminate_gives_exit_canceled(app: App) -> None:
    out = await app.value("terminate")
    assert out["ok"] is True
    assert (out["kind"], out["from"]) == ("pid.exit", out["pid"])
    assert (out["err_kind"], out["err_message"], out["err_retryable"]) == (
        "Canceled",
        "workflow terminated",
        False,
    )


async def test_cancel_reaches_the_workflow_with_its_reason(app: App) -> None:
    out = await app.value("cancel")
    assert out["ok"] is True
    assert out["value"]["canceled"] == "stop now"


async def test_exec_returns_the_result_or_the_error(app: App) -> None:
    out = await app.value("exec")
    assert out["value"] == {"value": 7}
    assert out.get("err") is None
    assert (out["fail_kind"], out["fail_message"]) == ("Invalid", "bad")


async def test_custom_workflow_type_name(app: App) -> None:
    assert await app.value("custom_type") == "named"


async def test_pid_string_is_a_public_handle(app: App) -> None:
    """A workflow started from Python is reached by its PID string from Lua (§2.1)."""
    pid = await app.node.spawn(WORKER, SpawnRequest(target="tc:collector", args=("py",)))
    assert await app.value("finish", {"pid": str(pid)}) is True
    event = await app.host.wait_exit(pid)
    assert event.error is None
    assert event.value["input"] == "py"


async def test_watcher_follows_continue_as_new(temporal_server: EmbeddedServer) -> None:
    # Python workflows only: Lua's `process.upgrade` belongs to the worker side.
    async with booted_app(temporal_server) as app:
        out = await app.value("continue_as_new")
    assert (out["kind"], out["from"], out["value"]) == ("pid.exit", out["pid"], 3)


async def test_watcher_survives_a_transient_error(
    temporal_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    polls: list[str] = []
    real_result = WorkflowHandle.result

    async def flaky_result(self: WorkflowHandle, **kwargs: Any) -> Any:
        polls.append(self.id)
        if len(polls) == 1:
            raise RPCError("connection reset", RPCStatusCode.UNAVAILABLE, b"")
        return await real_result(self, **kwargs)

    monkeypatch.setattr(WorkflowHandle, "result", flaky_result)
    monkeypatch.setattr(watchers, "BACKOFF_INITIAL", 0.2)
    async with booted_app(temporal_server) as app:
        out = await app.value("spawn_monitored")
    assert len(polls) == 2
    assert (out["kind"], out["value"], out.get("err_kind")) == ("pid.exit", {"value": 42}, None)


async def test_spawn_errors_are_reported_to_the_spawner(app: App) -> None:
    out = await app.value("bad_spawns")
    assert out["option"]["kind"] == "Invalid"
    assert "workflow.execution_timeout" in out["option"]["message"]
    assert out["not_workflow"]["kind"] == "Invalid"
    assert "not a workflow" in out["not_workflow"]["message"]
    assert out["unknown"] == {"kind": "NotFound", "message": "entry not found: tc:nope"}
    assert out["client_host"]["kind"] == "NotFound"


async def test_watches_are_released_when_the_local_process_exits(app: App) -> None:
    out = await app.value("watch_and_leave")
    watchers_ = app.host.connection.watchers
    for pid in (out["monitored"], out["linked"]):
        assert not watchers_.watching(PID.parse(pid))
        await app.node.send(None, pid, "finish")  # the workflows themselves carry on
        assert (await app.host.wait_exit(PID.parse(pid))).error is None


async def test_ephemeral_embedded_server(tmp_path: Path) -> None:
    """`--temporal-address embedded` with the `ephemeral` setting (`actors test`): an
    in-memory dev server, the app's own worker, and nothing written to the app folder."""
    app_dir = tmp_path / "app"
    shutil.copytree(APP, app_dir)
    runtime = AppRuntime.load(app_dir, settings={"temporal_address": "embedded", "ephemeral": True})
    async with runtime.node:
        await runtime.start()
        node = runtime.node
        pid = await node.spawn(WORKER, SpawnRequest(target="tc:echo", args=("in memory",)))
        with anyio.fail_after(30):
            event = await node.host(WORKER).wait_exit(pid)
    assert (event.value, event.error) == ("in memory", None)
    assert not (app_dir / ".actors").exists()


# -- temporal.client settings ---------------------------------------------------------------------


def _client(**data: Any) -> Entry:
    return Entry.create("app", "temporal", "temporal.client", data=data)


def test_client_defaults() -> None:
    settings = ClientSettings.from_entry(_client(address="localhost:7233"))
    assert (settings.namespace, settings.tq_prefix, settings.connection_timeout) == (
        "default",
        "",
        10.0,
    )
    assert (settings.keep_alive.interval_millis, settings.keep_alive.timeout_millis) == (
        30_000,
        10_000,
    )
    assert settings.api_key is None and settings.tls is None and settings.health_interval is None


def test_client_keep_alive_timeout_and_health_check() -> None:
    settings = ClientSettings.from_entry(
        _client(
            address="h:1",
            connection_timeout="2s",
            keep_alive_time="1m",
            keep_alive_timeout="5s",
            health_check={"enabled": True, "interval": "15s"},
        )
    )
    assert settings.connection_timeout == 2.0
    assert (settings.keep_alive.interval_millis, settings.keep_alive.timeout_millis) == (
        60_000,
        5_000,
    )
    assert settings.health_interval == 15.0


def test_client_api_key_sources(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    inline = ClientSettings.from_entry(_client(auth={"type": "api_key", "api_key": "k1"}))
    from_file = ClientSettings.from_entry(
        _client(auth={"type": "api_key", "api_key_file": str(key_file)})
    )
    assert (inline.api_key, from_file.api_key) == ("k1", "from-file")
    with pytest.raises(ActorError, match="only one API key source"):
        ClientSettings.from_entry(
            _client(auth={"type": "api_key", "api_key": "k", "api_key_file": str(key_file)})
        )
    with pytest.raises(ActorError, match=r"app:temporal: auth\.type api_key needs"):
        ClientSettings.from_entry(_client(auth={"type": "api_key"}))


def test_client_mtls_and_tls() -> None:
    settings = ClientSettings.from_entry(
        _client(
            auth={"type": "mtls", "cert_pem": "CERT", "key_pem": "KEY"},
            tls={"server_name": "temporal.example"},
        )
    )
    assert isinstance(settings.tls, TLSConfig)
    assert (settings.tls.client_cert, settings.tls.client_private_key) == (b"CERT", b"KEY")
    assert settings.tls.domain == "temporal.example"
    assert ClientSettings.from_entry(_client(tls={"enabled": True})).tls is True
    assert ClientSettings.from_entry(_client(tls={"enabled": False})).tls is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tls": {"insecure_skip_verify": True}}, "not supported by the Python Temporal SDK"),
        (
            {"tls": {"insecure_skip_verify": True, "server_name": "x"}},
            "mutually exclusive",
        ),
        ({"auth": {"type": "oauth"}}, "auth.type must be none, api_key or mtls"),
        ({"auth": {"type": "mtls", "cert_pem": "C"}}, "needs cert_file or cert_pem and key"),
        ({"connection_timeout": "soon"}, "connection_timeout: invalid duration"),
        ({"namespace": 3}, "namespace must be a string"),
    ],
)
def test_client_settings_the_sdk_cannot_express_are_errors(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ActorError, match=message):
        ClientSettings.from_entry(_client(address="h:1", **data))


async def test_health_check_logs_changes(caplog: pytest.LogCaptureFixture) -> None:
    answers = [True, False, False, True]

    class Service:
        async def check_health(self) -> bool:
            return answers.pop(0) if answers else True

    class Client:
        service_client = Service()

    settings = ClientSettings.from_entry(
        _client(address="h:1", health_check={"enabled": True, "interval": "10ms"})
    )
    connection = Connection(settings, Client(), watchers=None)  # type: ignore[arg-type]
    with anyio.move_on_after(0.3):
        await connection.check_health()
    changes = [r.getMessage() for r in caplog.records if "Temporal at h:1" in r.getMessage()]
    assert changes == [
        "app:temporal: Temporal at h:1 is unhealthy: not serving",
        "app:temporal: Temporal at h:1 is healthy again",
    ]


def test_task_queue_prefix_is_applied_once() -> None:
    settings = ClientSettings.from_entry(_client(address="h:1", tq_prefix="dev-"))
    assert settings.task_queue("orders") == "dev-orders"
    assert settings.task_queue("dev-orders") == "dev-orders"


# -- the command line -----------------------------------------------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "actors.cli", *args]


async def test_actors_exec_prints_the_workflow_result(temporal_server: EmbeddedServer) -> None:
    async with booted_app(temporal_server) as app:
        common = [
            "--temporal-address",
            temporal_server.address,
            "-o",
            f"tc:temporal:tq_prefix={app.prefix}",
            "-o",
            "tc:worker:lifecycle.auto_start=false",
        ]
        ok = await anyio.run_process(
            _cli("exec", str(APP), "tc:echo", "--input", '{"value": 5}', *common), check=False
        )
        failed = await anyio.run_process(
            _cli(
                "exec",
                str(APP),
                "tc:echo",
                "--host",
                WORKER,
                "--input",
                '{"fail": {"kind": "NotFound", "message": "gone"}}',
                *common,
            ),
            check=False,
        )
        # A process entry, on the app's only process host, that execs a workflow itself.
        process = await anyio.run_process(
            _cli("exec", str(APP), "tc:custom_type", *common), check=False
        )
    assert ok.returncode == 0, ok.stderr.decode()
    assert json.loads(ok.stdout) == {"value": 5}
    assert process.returncode == 0, process.stderr.decode()
    assert json.loads(process.stdout) == "named"
    assert failed.returncode == 1
    assert failed.stdout == b""
    assert "error: [NotFound] gone" in failed.stderr.decode()


async def test_actors_exec_reports_an_unreachable_server() -> None:
    result = await anyio.run_process(
        _cli("exec", str(APP), "tc:echo", "--temporal-address", "127.0.0.1:1"), check=False
    )
    assert result.returncode == 2
    assert result.stderr.decode().startswith(
        "actors exec: tc:temporal: cannot connect to Temporal at 127.0.0.1:1"
    )


async def test_actors_exec_with_the_embedded_server(tmp_path: Path) -> None:
    """`address: embedded`: one command starts the dev server (SQLite under `.actors/`),
    the app's worker, the workflow, and stops them all again."""
    app_dir = tmp_path / "app"
    shutil.copytree(APP, app_dir)
    result = await anyio.run_process(
        _cli("exec", str(app_dir), "tc:echo", "--input", '{"value": 3}'), check=False
    )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert json.loads(result.stdout) == {"value": 3}
    assert "temporal: embedded dev server at 127.0.0.1:" in stderr
    assert "Web UI http://127.0.0.1:" in stderr
    assert (app_dir / ".actors" / "temporal.db").is_file()


async def test_actors_worker_serves_until_sigterm(temporal_server: EmbeddedServer) -> None:
    prefix = f"w{uuid.uuid4().hex[:8]}-"
    command = _cli(
        "worker",
        str(APP),
        "--temporal-address",
        temporal_server.address,
        "-o",
        f"tc:temporal:tq_prefix={prefix}",
    )
    async with await anyio.open_process(command) as process:
        assert process.stderr is not None
        stderr = TextReceiveStream(process.stderr)
        seen = ""
        with anyio.fail_after(30):
            async for chunk in stderr:
                seen += chunk
                if "worker running" in seen:
                    break
        assert "tc:worker" in seen
        client = await temporal_server.connect(data_converter=DATA_CONVERTER)
        with anyio.fail_after(30):
            result = await client.execute_workflow(
                "tc:echo", {"value": 1}, id=f"{prefix}echo", task_queue=prefix + TASK_QUEUE
            )
        assert result == {"value": 1}
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(30):
            async for chunk in stderr:
                seen += chunk
            returncode = await process.wait()
    assert returncode == 0, seen
    assert "SIGTERM, stopping" in seen
