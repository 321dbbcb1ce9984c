"""Running Lua code in tests: write a small app, boot it as `actors run` would, run one entry.

event = await run_lua(tmp_path, "return function(a) return a + 1 end", 41)
assert event.value == 42
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import anyio
import yaml

from actors.host import SpawnRequest
from actors.messages import Event
from actors.runtime import AppRuntime

HOST = "test:processes"

ECHO = """
return {main = function()
  local inbox = process.inbox()
  while true do
    local msg = inbox:receive()
    if msg:topic() == "stop" then return true end
    process.send(msg:from(), "echo", msg:payload():data())
  end
end}
"""
"""A process that answers every message with "echo" and its data, until "stop"."""


def lua_entry(name: str, kind: str = "process.lua", **extra: Any) -> dict[str, Any]:
    """The entry `test:NAME` of a test app: `NAME.lua` (one of `write_app`'s `files`),
    method `main`, and `extra` fields such as `modules`."""
    return {"name": name, "kind": kind, "source": f"file://{name}.lua", "method": "main", **extra}


def write_app(
    root: Path,
    main: str,
    *,
    modules: list[str] | tuple[str, ...] = (),
    files: dict[str, str] | None = None,
    entries: list[dict[str, Any]] | None = None,
    main_entry: dict[str, Any] | None = None,
    host_options: dict[str, Any] | None = None,
) -> Path:
    """An app in `root`: namespace `test`, a `test:processes` host, `test:main` running
    `main` (a Lua source), plus extra `files` and `entries`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.lua").write_text(textwrap.dedent(main))
    for name, source in (files or {}).items():
        (root / name).write_text(textwrap.dedent(source))
    main_def = {
        "name": "main",
        "kind": "process.lua",
        "source": "file://main.lua",
        "method": "main",
        "modules": list(modules),
        **(main_entry or {}),
    }
    index = {
        "version": "1.0",
        "namespace": "test",
        "entries": [
            {"name": "processes", "kind": "process.host", "host": host_options or {}},
            main_def,
            *(entries or []),
        ],
    }
    (root / "_index.yaml").write_text(yaml.safe_dump(index, sort_keys=False))
    return root


async def run_entry(
    app_dir: Path, entry: str, *args: Any, host: str = HOST, timeout: float = 10
) -> Event:
    """Boot the app, run `entry` with `args` on `host`, return its EXIT event."""
    runtime = AppRuntime.load(app_dir)
    async with runtime.node:
        await runtime.start()
        pid = await runtime.node.spawn(host, SpawnRequest(target=entry, args=args))
        with anyio.fail_after(timeout):
            return await runtime.node.host(host).wait_exit(pid)


async def run_lua(tmp_path: Path, main: str, *args: Any, **app: Any) -> Event:
    """Write an app around `main` and run `test:main` with `args`."""
    timeout = app.pop("timeout", 10)
    app_dir = write_app(tmp_path / "app", main, **app)
    return await run_entry(app_dir, "test:main", *args, timeout=timeout)
