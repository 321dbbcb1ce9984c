# ruff: noqa: E501  (Lua sources in strings)
"""The `fs` module on `fs.directory` entries, and every way out of the root refused."""

from __future__ import annotations

import os

import pytest

from tests.lua_harness import run_lua

pytestmark = pytest.mark.anyio

ENTRIES = [{"name": "files", "kind": "fs.directory", "directory": "data", "auto_init": True}]


async def test_files_directories_streams(tmp_path):
    event = await run_lua(
        tmp_path,
        """
        local fs = require("fs")
        return function()
          local vol = assert(fs.get("test:files"))
          local out = {}
          assert(vol:mkdir("/docs"))
          local _, exists_err = vol:mkdir("/docs")
          out.mkdir_again = exists_err:kind()
          assert(vol:writefile("/docs/config.txt", "key=value\\nfoo=bar"))
          assert(vol:writefile("/docs/config.txt", "\\nmore", "a"))
          out.content = vol:readfile("/docs/config.txt")
          local _, wx = vol:writefile("/docs/config.txt", "x", "wx")
          out.wx = wx:kind()
          assert(vol:chdir("docs"))
          out.pwd = vol:pwd()
          out.relative = vol:readfile("config.txt") == out.content
          local f = assert(vol:open("log.txt", "w"))
          f:write("line 1\\n"); f:write("line two words\\n"); f:sync(); f:close()
          local _, closed = f:write("x")
          out.closed = closed:kind()
          f = assert(vol:open("log.txt", "r"))
          local sc = assert(f:scanner("lines"))
          local lines = {}
          while sc:scan() do lines[#lines + 1] = sc:text() end
          out.lines = lines
          out.scan_err = sc:err()
          assert(f:seek("set", 5) == 5)
          out.at5 = f:read(1)
          f:seek("end", 0)
          local _, eof = f:read()
          out.eof = eof:kind()
          out.size = f:stat().size
          f:close()
          local names = {}
          for entry in vol:readdir("/docs") do names[#names + 1] = entry.name .. ":" .. entry.type end
          out.names = names
          local info = vol:stat("/docs")
          out.is_dir, out.type = info.is_dir, info.type
          out.exists, out.missing = vol:exists("/docs/log.txt"), vol:exists("/nope")
          out.isdir = vol:isdir("/docs")
          local _, notempty = vol:remove("/docs")
          out.notempty = notempty:kind()
          local _, nf = vol:readfile("/nope.txt")
          out.nf = nf:kind()
          local _, badmode = vol:open("/x", "rw")
          out.badmode = badmode:kind()
          local _, unknown = fs.get("test:nope")
          out.unknown = unknown:kind()
          return out
        end
        """,
        modules=["fs"],
        entries=ENTRIES,
    )
    assert event.error is None, event.error
    v = event.value
    assert v["content"] == "key=value\nfoo=bar\nmore"
    assert v["mkdir_again"] == "AlreadyExists" and v["wx"] == "AlreadyExists"
    assert v["pwd"] == "/docs" and v["relative"] is True
    assert v["lines"] == ["line 1", "line two words"] and "scan_err" not in v
    assert v["at5"] == "1" and v["eof"] == "NotFound" and v["size"] == 22
    assert v["names"] == ["config.txt:file", "log.txt:file"]
    assert v["is_dir"] is True and v["type"] == "directory" and v["isdir"] is True
    assert v["exists"] is True and v["missing"] is False
    assert v["notempty"] == "Invalid" and v["nf"] == "NotFound"
    assert v["closed"] == v["badmode"] == "Invalid" and v["unknown"] == "NotFound"
    assert (
        tmp_path / "app" / "data" / "docs" / "log.txt"
    ).read_text() == "line 1\nline two words\n"


async def test_paths_never_leave_the_root(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    app = tmp_path / "app"
    (app / "data").mkdir(parents=True)
    os.symlink(secret, app / "data" / "link_out")
    os.symlink(tmp_path, app / "data" / "dir_out")
    (app / "data" / "inside.txt").write_text("ok")
    os.symlink("inside.txt", app / "data" / "link_in")
    event = await run_lua(
        tmp_path,
        """
        local fs = require("fs")
        return function(secret_path)
          local vol = assert(fs.get("test:files"))
          local out = {}
          local function try(name, ok, err)
            out[name] = err and (err:kind() .. ": " .. err:message()) or ("read: " .. tostring(ok))
          end
          -- `..` that climbs above the root
          try("dotdot", vol:readfile("../secret.txt"))
          try("dotdot_deep", vol:readfile("/a/../../secret.txt"))
          try("dotdot_write", vol:writefile("../../evil.txt", "x"))
          try("chdir_up", vol:chdir(".."))
          -- an absolute path is the volume's, never the host's
          try("absolute", vol:readfile(secret_path))
          try("etc", vol:readfile("/etc/passwd"))
          -- symbolic links that point out
          try("link_file", vol:readfile("link_out"))
          try("link_dir", vol:readfile("dir_out/secret.txt"))
          try("link_write", vol:writefile("dir_out/evil.txt", "x"))
          try("link_open", vol:open("link_out", "r"))
          -- a link that stays inside is fine
          try("link_in", vol:readfile("link_in"))
          return out
        end
        """,
        str(secret),
        modules=["fs"],
        entries=[{"name": "files", "kind": "fs.directory", "directory": "data"}],
    )
    assert event.error is None, event.error
    v = event.value
    for name in (
        "dotdot",
        "dotdot_deep",
        "dotdot_write",
        "chdir_up",
        "link_file",
        "link_dir",
        "link_write",
        "link_open",
    ):
        assert v[name].startswith("PermissionDenied: path "), (name, v[name])
        assert "outside the directory root" in v[name]
    assert v["absolute"].startswith("NotFound") and v["etc"].startswith("NotFound")
    assert v["link_in"] == "read: ok"
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
