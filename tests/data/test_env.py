"""The `env` module: storages, declared variables, read-only and permission rules."""

from __future__ import annotations

import pytest

from tests.lua_harness import run_lua

pytestmark = pytest.mark.anyio

ENTRIES = [
    {"name": "os", "kind": "env.storage.os"},
    {"name": "mem", "kind": "env.storage.memory", "values": {"GREETING": "hi"}},
    {"name": "file", "kind": "env.storage.file", "file_path": "app.env", "auto_create": True},
    {"name": "locked", "kind": "env.storage.memory", "read_only": True, "values": {"K": "v"}},
    {
        "name": "router",
        "kind": "env.storage.router",
        "storages": ["mem", "file", "os"],
        "meta": {"default": True},
    },
    {"name": "home", "kind": "env.variable", "variable": "ACTORS_TEST_HOME", "storage": "os"},
    {
        "name": "port",
        "kind": "env.variable",
        "variable": "PORT",
        "storage": "file",
        "default": "8080",
    },
    {
        "name": "mode",
        "kind": "env.variable",
        "variable": "MODE",
        "storage": "mem",
        "default": "dev",
        "read_only": True,
    },
    {"name": "k", "kind": "env.variable", "variable": "K", "storage": "locked"},
]


async def test_env_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTORS_TEST_HOME", "/home/test")
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "app.env").write_text('# settings\nPORT=9000\nNAME="two words"\n')
    event = await run_lua(
        tmp_path,
        """
        local env = require("env")
        return function()
          local out = {}
          out.home = env.get("ACTORS_TEST_HOME")
          out.by_id = env.get("test:port")
          out.port = env.get("PORT")
          out.name = env.get("NAME")                -- undeclared: the default storage (router)
          out.greeting = env.get("GREETING")
          out.mode = env.get("MODE")                -- its default
          local _, e1 = env.set("MODE", "prod")
          out.ro_var = e1:kind()
          local _, e2 = env.set("K", "x")
          out.ro_storage = e2:kind()
          local _, e3 = env.set("ACTORS_TEST_HOME", "x")
          out.ro_os = e3:kind()
          assert(env.set("NEW_KEY", "new"))         -- router: the first writable storage (mem)
          out.new = env.get("NEW_KEY")
          assert(env.set("PORT", "7000"))           -- declared in the file storage
          local _, e4 = env.get("MISSING")
          out.missing = e4:kind()
          local _, e5 = env.get("")
          out.empty = e5:kind()
          local all = env.get_all()
          out.all_port, out.all_new = all.PORT, all.NEW_KEY
          return out
        end
        """,
        modules=["env"],
        entries=ENTRIES,
    )
    assert event.error is None, event.error
    assert event.value == {
        "home": "/home/test",
        "by_id": "9000",
        "port": "9000",
        "name": "two words",
        "greeting": "hi",
        "mode": "dev",
        "ro_var": "PermissionDenied",
        "ro_storage": "PermissionDenied",
        "ro_os": "PermissionDenied",
        "new": "new",
        "missing": "NotFound",
        "empty": "Invalid",
        "all_port": "7000",
        "all_new": "new",
    }
    assert "PORT=7000" in (app_dir / "app.env").read_text()
    assert (app_dir / "app.env").stat().st_mode & 0o777 == 0o600


async def test_undeclared_without_default_storage_is_denied(tmp_path):
    event = await run_lua(
        tmp_path,
        """
        local env = require("env")
        return function()
          local _, err = env.get("PATH")
          return {err:kind(), env.get("GREETING")}
        end
        """,
        modules=["env"],
        entries=[
            {"name": "a", "kind": "env.storage.memory", "values": {"GREETING": "hi"}},
            {"name": "b", "kind": "env.storage.os"},
            {"name": "g", "kind": "env.variable", "variable": "GREETING", "storage": "a"},
        ],
    )
    assert event.error is None, event.error
    assert event.value == ["PermissionDenied", "hi"]


def test_load_time_checks(tmp_path):
    from actors.runtime import AppRuntime
    from tests.lua_harness import write_app

    app = write_app(
        tmp_path / "app",
        "return function() end",
        entries=[
            {"name": "a", "kind": "store.sql", "database": "db"},
            {"name": "b", "kind": "env.storage.router", "storages": []},
            {"name": "c", "kind": "fs.directory"},
            {"name": "d", "kind": "db.sql.sqlite"},
            {"name": "e", "kind": "db.sql.postgres", "host": "h"},
            {"name": "f", "kind": "store.memory", "max_size": -1},
        ],
    )
    problems = sorted(str(e) for e in AppRuntime.load(app).errors)
    text = "\n".join(problems)
    for expected in (
        "missing table_name",
        "storages:",
        "missing directory",
        "missing file",
        "missing database, username",
        "max_size",
    ):
        assert expected in text, text
