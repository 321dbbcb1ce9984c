# ruff: noqa: E501  (Lua sources in strings)
"""The query builder (rendering and running on SQLite), `hash` and `yaml`."""

from __future__ import annotations

import hashlib
import hmac
import zlib

import pytest

from tests.lua_harness import run_lua

pytestmark = pytest.mark.anyio


async def test_builder_renders_and_runs(tmp_path):
    event = await run_lua(
        tmp_path,
        """
        local sql = require("sql")
        local b = sql.builder
        return function()
          local out = {}
          local q = b.select("id", "name"):from("users"):where({active = 1}):order_by("name ASC"):limit(10)
          local s, args = q:to_sql()
          out.select = s
          out.select_args = args
          local base = b.select("*"):from("t")
          local narrowed = base:where("a > ?", 5)
          out.immutable = base:to_sql()
          s, args = b.select("u.id", "COUNT(o.id) AS n"):from("users u")
            :left_join("orders o ON o.user_id = u.id")
            :where(b.and_({b.eq({["u.active"] = 1}), b.or_({b.gte({["u.score"] = 80}), b.like({["u.name"] = "a%"})})}))
            :where(b.eq({["u.role"] = {"x", "y"}, ["u.deleted"] = sql.NULL}))
            :group_by("u.id"):having(b.gt({["COUNT(o.id)"] = 0})):offset(5)
            :placeholder_format(b.dollar):to_sql()
          out.complex, out.complex_n = s, #args
          out.insert = b.insert("users"):columns("name", "score"):values("a", 1):values("b", nil):suffix("RETURNING id"):to_sql()
          out.update = b.update("users"):set("score", b.expr("score + ?", 1)):set_map({name = "z"}):where({id = 3}):to_sql()
          out.delete = b.delete("users"):where(b.lt({score = 10})):to_sql()
          local _, err = b.select():from("t"):to_sql()
          out.err = err:kind()
          local _, err2 = b.insert("t"):to_sql()
          out.err2 = err2:kind()

          local db = assert(sql.get("test:db"))
          assert(db:execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, score INTEGER, active INTEGER)"))
          assert(b.insert("users"):set_map({name = "ann", score = 90, active = 1}):run_with(db):exec())
          assert(b.insert("users"):columns("name", "score", "active"):values("bob", 50, 1):values("cid", 95, 0):run_with(db):exec())
          local tx = assert(db:begin())
          assert(b.update("users"):set("score", b.expr("score + ?", 10)):where({name = "bob"}):run_with(tx):exec())
          tx:commit()
          local r = assert(b.delete("users"):where(b.eq({active = 0})):run_with(db):exec())
          out.deleted = r.rows_affected
          local rows = assert(b.select("name", "score"):from("users"):where(b.gte({score = 60})):order_by("score DESC"):run_with(db):query())
          out.rows = {rows[1].name .. rows[1].score, rows[2].name .. rows[2].score}
          local _, bad = b.select("x"):run_with("not a db")
          out.bad = bad:kind()
          return out
        end
        """,
        modules=["sql"],
        entries=[{"name": "db", "kind": "db.sql.sqlite", "file": ":memory:"}],
    )
    assert event.error is None, event.error
    out = event.value
    assert out["select"] == "SELECT id, name FROM users WHERE active = ? ORDER BY name ASC LIMIT 10"
    assert out["select_args"] == [1]
    assert out["immutable"] == "SELECT * FROM t"
    assert out["complex"] == (
        "SELECT u.id, COUNT(o.id) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id "
        "WHERE (u.active = $1 AND (u.score >= $2 OR u.name LIKE $3)) AND u.deleted IS NULL AND "
        "u.role IN ($4,$5) GROUP BY u.id HAVING COUNT(o.id) > $6 OFFSET 5"
    )
    assert out["complex_n"] == 6
    assert out["insert"] == "INSERT INTO users (name,score) VALUES (?,?),(?,?) RETURNING id"
    assert out["update"] == "UPDATE users SET score = score + ?, name = ? WHERE id = ?"
    assert out["delete"] == "DELETE FROM users WHERE score < ?"
    assert out["err"] == out["err2"] == out["bad"] == "Invalid"
    assert out["deleted"] == 1
    assert out["rows"] == ["ann90", "bob60"]


async def test_hash(tmp_path):
    event = await run_lua(
        tmp_path,
        """
        local hash = require("hash")
        return function()
          local _, err = hash.sha256(42)
          return {
            md5 = hash.md5("hello"), sha1 = hash.sha1("hello"), sha256 = hash.sha256("hello"),
            sha512 = hash.sha512("hello"), raw = #hash.sha256("hello", true),
            hmac = hash.hmac_sha256("message", "secret-key"), hmac_md5 = hash.hmac_md5("m", "k"),
            fnv32 = hash.fnv32("hello"), fnv64 = hash.fnv64("hello"), crc = hash.crc32("hello"),
            err = err:kind(),
          }
        end
        """,
        modules=["hash"],
    )
    assert event.error is None, event.error
    v = event.value
    assert v["md5"] == hashlib.md5(b"hello").hexdigest()
    assert v["sha1"] == hashlib.sha1(b"hello").hexdigest()
    assert v["sha256"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert v["sha512"] == hashlib.sha512(b"hello").hexdigest()
    assert v["raw"] == 32
    assert v["hmac"] == hmac.new(b"secret-key", b"message", "sha256").hexdigest()
    assert v["hmac_md5"] == hmac.new(b"k", b"m", "md5").hexdigest()
    assert v["fnv32"] == 0x4F9F2CAB  # FNV-1a 32 of "hello"
    assert v["fnv64"] == 0xA430D84680AABD0B - (1 << 64)  # FNV-1a 64, as a signed Lua integer
    assert v["crc"] == zlib.crc32(b"hello")
    assert v["err"] == "Invalid"


async def test_yaml(tmp_path):
    event = await run_lua(
        tmp_path,
        """
        local yaml = require("yaml")
        return function()
          local s = assert(yaml.encode({name = "test", value = 123}))
          local d = assert(yaml.decode("parent:\\n  child:\\n    value: 123\\nlist: [1, 2.5, true]\\nwhen: 2024-01-02\\n"))
          local _, bad = yaml.decode("a: [1, 2\\nb: }")
          local _, empty = yaml.decode("")
          local _, notstr = yaml.decode(123)
          local _, notable = yaml.encode("x")
          local _, evil = yaml.decode("!!python/object/apply:os.system ['true']")
          local mixed = assert(yaml.encode({1, 2, name = "x"}))     -- mixed keys encode
          local _, fn = yaml.encode({f = function() end})
          return {s = s, v = d.parent.child.value, list = d.list, when = d.when,
                  bad = bad:kind(), bad_msg = bad:message(), empty = empty:kind(),
                  notstr = notstr:kind(), notable = notable:kind(), evil = evil:kind(),
                  mixed = mixed, fn = fn:kind(),
                  round = yaml.decode(yaml.encode({1, 2, 3}))[3]}
        end
        """,
        modules=["yaml"],
    )
    assert event.error is None, event.error
    v = event.value
    assert v["s"] == "name: test\nvalue: 123\n"
    assert v["v"] == 123 and v["list"] == [1, 2.5, True] and v["when"] == "2024-01-02"
    assert v["bad"] == "Internal" and "line" in v["bad_msg"]
    assert v["empty"] == v["notstr"] == v["notable"] == "Invalid"
    assert v["evil"] == "Internal"  # the safe loader builds no Python objects
    assert v["round"] == 3
    assert v["fn"] == "Internal" and "name: x" in v["mixed"]
