"""The public Python API (`import actors`), used only through what it exports.

Lua processes here run on local hosts; tests/temporal/test_examples.py runs the Python-API
example app, where a Python process also talks to a workflow.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest

import actors

pytestmark = pytest.mark.anyio

INDEX = """\
version: "1.0"
namespace: t
entries:
  - {name: processes, kind: process.host}
  - {name: echo, kind: process.lua, source: file://echo.lua, method: main}
  - {name: caller, kind: process.lua, source: file://caller.lua, method: main}
  - {name: fail, kind: process.lua, source: file://fail.lua, method: main}
  - {name: waiter, kind: process.lua, source: file://waiter.lua, method: main}
"""

SOURCES = {
    # Answers each message with its payload doubled, on topic "echo", until "stop".
    "echo.lua": """
        local function main()
          local inbox = process.inbox()
          while true do
            local msg = inbox:receive()
            if msg:topic() == "stop" then return "stopped" end
            process.send(msg:from(), "echo", msg:payload():data() * 2)
          end
        end
        return {main = main}
    """,
    # Sends to a name (a Python process registered it) and returns the answer.
    "caller.lua": """
        local function main(name, value)
          process.send(name, "ask", {value = value, reply_to = process.pid()})
          return process.inbox():receive():payload():data()
        end
        return {main = main}
    """,
    "fail.lua": """
        local function main(message)
          error(message)
        end
        return {main = main}
    """,
    # Reports what ended it: a CANCEL event (with its reason) or a message.
    "waiter.lua": """
        local function main()
          local event = process.events():receive()
          return {kind = event.kind, reason = event.reason}
        end
        return {main = main}
    """,
}


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "_index.yaml").write_text(INDEX)
    for name, source in SOURCES.items():
        (tmp_path / name).write_text(textwrap.dedent(source))
    return tmp_path


def test_the_public_names() -> None:
    for name in actors.__all__:
        assert getattr(actors, name) is not None, name
    assert {"App", "Process", "PID", "ActorError", "Exit", "Message", "Event"} <= set(
        actors.__all__
    )


async def test_python_and_lua_processes_talk_by_pid(app_dir: Path) -> None:
    async def ask(process: actors.Process, echo: str, value: int) -> Any:
        # A PID inside a value (here an argument) travels as its text, as Lua knows it.
        await process.send(echo, "double", value)
        reply = await process.receive()
        assert reply.topic == "echo" and reply.sender == actors.PID.parse(echo)
        return reply.payload

    async with actors.App(app_dir) as app:
        echo = await app.spawn("t:echo")
        assert await app.run(ask, echo, 21) == 42
        assert await app.run(ask, str(echo), 5) == 10


async def test_lua_sends_to_a_registered_python_process(app_dir: Path) -> None:
    async def server(process: actors.Process) -> None:
        message = await process.receive()
        await process.send(message.payload["reply_to"], "answer", message.payload["value"] + 1)

    async with actors.App(app_dir) as app:
        pid = await app.spawn(server)
        app.register("py.server", pid)
        assert app.lookup("py.server") == pid
        assert await app.run("t:caller", "py.server", 41) == 42


async def test_a_failure_raises_with_its_kind(app_dir: Path) -> None:
    async def broken(process: actors.Process) -> None:
        raise ValueError("bad input")

    async with actors.App(app_dir) as app:
        with pytest.raises(actors.ActorError, match="boom"):
            await app.run("t:fail", "boom")
        with pytest.raises(actors.ActorError, match="ValueError: bad input") as caught:
            await app.run(broken)
        assert caught.value.error.kind == "Internal"


async def test_monitor_and_link_from_python(app_dir: Path) -> None:
    async def supervisor(process: actors.Process) -> list[str]:
        process.trap_links = True
        child = await process.spawn("t:fail", "crashed", link=True)
        watched = await process.spawn("t:echo", monitor=True)
        await process.send(watched, "stop")
        kinds = []
        for _ in range(2):
            event = await process.next_event()
            kinds.append(event.kind)
            if event.kind == actors.LINK_DOWN:
                assert event.source == child and "crashed" in str(event.error)
            else:
                assert event.source == watched and event.value == "stopped"
        return sorted(kinds)

    async def linked_victim(process: actors.Process) -> None:
        await process.link(await process.spawn("t:fail", "crashed"))
        await anyio.sleep(10)

    async with actors.App(app_dir) as app:
        assert await app.run(supervisor) == sorted([actors.EXIT, actors.LINK_DOWN])
        with pytest.raises(actors.ActorError) as caught:
            await app.run(linked_victim, timeout=5)
        assert caught.value.error.message.startswith("linked process failed: {t:processes|")


async def test_terminate_cancel_and_wait(app_dir: Path) -> None:
    async with actors.App(app_dir) as app:
        echo = await app.spawn("t:echo")
        waiter = await app.spawn("t:waiter")
        await app.terminate(echo)
        ended = await app.wait(echo, timeout=5)
        assert not ended.ok and ended.error is not None

        async def cancel_and_watch(process: actors.Process) -> Any:
            await process.monitor(waiter)
            await process.cancel(waiter, "enough")
            return (await process.next_event()).value

        assert await app.run(cancel_and_watch, timeout=5) == {
            "kind": actors.CANCEL,
            "reason": "enough",
        }


async def test_spawn_arguments_are_copies(app_dir: Path) -> None:
    async def mutate(process: actors.Process, data: dict[str, Any]) -> dict[str, Any]:
        data["touched"] = True
        return data

    original = {"n": 1}
    async with actors.App(app_dir) as app:
        assert await app.run(mutate, original) == {"n": 1, "touched": True}
    assert original == {"n": 1}


async def test_a_broken_app_does_not_boot(tmp_path: Path) -> None:
    (tmp_path / "_index.yaml").write_text("namespace: t\nentries: [\n")
    with pytest.raises(actors.ActorError, match="malformed YAML"):
        async with actors.App(tmp_path):
            pass
    (tmp_path / "empty").mkdir()
    with pytest.raises(actors.ActorError, match="holds no app"):
        async with actors.App(tmp_path / "empty"):
            pass
    with pytest.raises(actors.ActorError, match="app folder not found"):
        async with actors.App(tmp_path / "missing"):
            pass


async def test_using_an_app_that_is_not_running(app_dir: Path) -> None:
    app = actors.App(app_dir)
    with pytest.raises(RuntimeError, match="not running"):
        await app.spawn("t:echo")


async def test_errors_are_caught_by_kind(app_dir: Path) -> None:
    async def refuses(process: actors.Process) -> None:
        raise actors.InvalidError("quantity must be positive")

    async with actors.App(app_dir) as app:
        with pytest.raises(actors.InvalidError, match="quantity must be positive"):
            await app.run(refuses)
        ended = await app.wait("{t:processes|0xfffff}", timeout=5)
        with pytest.raises(actors.NotFoundError):
            ended.result()


async def test_a_boot_failure_raises_as_itself(tmp_path: Path) -> None:
    """A Temporal server that cannot be reached stops the boot with its own error (not a
    task group's exception group), and nothing is left running."""
    (tmp_path / "_index.yaml").write_text(
        "namespace: t\n"
        "entries:\n"
        "  - {name: temporal, kind: temporal.client, address: '127.0.0.1:1',"
        " connection_timeout: 2s}\n"
    )
    with pytest.raises(actors.UnavailableError, match="cannot connect to Temporal"):
        async with actors.App(tmp_path):
            pass
