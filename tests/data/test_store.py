"""The `store` module on `store.memory` and `store.sql` (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.lua_harness import run_lua

pytestmark = pytest.mark.anyio

STORE_TEST = """
local store = require("store")
local time = require("time")
return function(id)
  local s = assert(store.get(id))
  local out = {}
  assert(s:set("user:name", "alice"))
  assert(s:set("user:age", 25))
  assert(s:set("user:profile", {name = "Alice", roles = {"admin"}}))
  out.name = s:get("user:name")
  out.age = s:get("user:age")
  out.int = math.type(out.age)
  local profile = s:get("user:profile")
  profile.name = "changed"                       -- a copy: the stored value is unchanged
  out.profile = s:get("user:profile").name
  out.has = s:has("user:name")
  out.deleted = s:delete("user:name")
  out.deleted_again = s:delete("user:name")
  local v, err = s:get("user:name")
  out.missing = err
  assert(s:set("short", "x", 0.2))
  out.before = s:get("short")
  time.sleep("300ms")
  out.expired = s:has("short")
  local _, e1 = s:get("")
  out.empty_key = e1
  local _, e2 = s:set("k", nil)
  out.nil_value = e2
  local _, e3 = s:set("k", "v", -1)
  out.bad_ttl = type(e3)
  s:release()
  local _, e4 = s:get("user:age")
  out.released = e4
  local _, e5 = store.get("test:nope")
  out.unknown = e5:kind()
  local _, e6 = store.get("test:main")
  out.wrong_kind = e6:kind()
  return out
end
"""

EXPECTED = {
    "name": "alice",
    "age": 25,
    "int": "integer",
    "profile": "Alice",
    "has": True,
    "deleted": True,
    "deleted_again": False,
    "missing": "key not found: user:name",
    "before": "x",
    "expired": False,
    "empty_key": "key is empty",
    "nil_value": "value is nil",
    "bad_ttl": "string",
    "released": "store released",
    "unknown": "NotFound",
    "wrong_kind": "Invalid",
}


STORES = {
    "memory": [{"name": "kv", "kind": "store.memory", "max_size": 100}],
    "sql-sqlite": [
        {"name": "db", "kind": "db.sql.sqlite", "file": "kv.db"},
        {"name": "kv", "kind": "store.sql", "database": "db", "table_name": "kv_store"},
    ],
    "sql-postgres": [
        {"name": "db", "kind": "db.sql.postgres", "dsn": "${env:ACTORS_TEST_PG_DSN}"},
        {"name": "kv", "kind": "store.sql", "database": "db", "table_name": "kv_store"},
    ],
}


@pytest.mark.parametrize("kind", sorted(STORES))
async def test_store(kind, tmp_path, request, monkeypatch):
    if kind == "sql-postgres":
        monkeypatch.setenv("ACTORS_TEST_PG_DSN", request.getfixturevalue("postgres").dsn)
    event = await run_lua(
        tmp_path, STORE_TEST, "test:kv", modules=["store", "time"], entries=STORES[kind]
    )
    assert event.error is None, event.error
    assert event.value == EXPECTED


async def test_memory_store_size_limit(tmp_path):
    event = await run_lua(
        tmp_path,
        """
        local store = require("store")
        return function()
          local s = assert(store.get("test:small"))
          assert(s:set("a", 1)); assert(s:set("b", 2))
          local ok, err = s:set("c", 3)
          assert(s:set("a", 10), "replacing a key in a full store works")
          return {ok = ok, err = err, a = s:get("a"), b = s:get("b")}
        end
        """,
        modules=["store"],
        entries=[{"name": "small", "kind": "store.memory", "max_size": 2}],
    )
    assert event.error is None, event.error
    assert event.value == {"err": "store is full (max_size 2)", "a": 10, "b": 2}


async def test_sql_store_sweeps_expired_rows(tmp_path):
    """Expired keys are invisible at once and their rows deleted by the periodic sweep."""
    event = await run_lua(
        tmp_path,
        """
        local store = require("store")
        local sql = require("sql")
        local time = require("time")
        return function()
          local s = assert(store.get("test:kv"))
          assert(s:set("gone", "x", 0.1))
          assert(s:set("kept", "y"))
          local db = assert(sql.get("test:db"))
          local before = db:query("SELECT count(*) AS n FROM kv_store")[1].n
          time.sleep("2500ms")                      -- past the expiry and a 1 s sweep
          local after = db:query("SELECT count(*) AS n FROM kv_store")[1].n
          return {before, after, s:get("kept")}
        end
        """,
        modules=["store", "sql", "time"],
        entries=[
            {"name": "db", "kind": "db.sql.sqlite", "file": "kv.db"},
            {
                "name": "kv",
                "kind": "store.sql",
                "database": "db",
                "table_name": "kv_store",
                "cleanup_interval": "1s",
            },
        ],
    )
    assert event.error is None, event.error
    assert event.value == [2, 1, "y"]
