"""The `json`, `uuid` and `crypto` Lua modules (lua-api §11, §12), driven through Lua."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json as stdjson
import time
import uuid as stduuid
from pathlib import Path
from typing import Any

import anyio
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from actors.host import SpawnRequest
from actors.messages import Event
from actors.runtime import AppRuntime
from corelib.gotime import GoTime
from tests.lua_harness import HOST, run_lua, write_app

pytestmark = pytest.mark.anyio

MODULES = ["json", "uuid", "crypto", "time"]


async def run(tmp_path: Path, main: str, *args: Any, setup: Any = None, **app: Any) -> Event:
    """`run_lua`, with a hook to configure the host before the process starts."""
    app.setdefault("modules", MODULES)
    if setup is None:
        return await run_lua(tmp_path, main, *args, **app)
    app_dir = write_app(tmp_path / "app", main, **app)
    runtime = AppRuntime.load(app_dir)
    async with runtime.node:
        await runtime.start()
        host = runtime.node.host(HOST)
        setup(host)
        pid = await runtime.node.spawn(HOST, SpawnRequest(target="test:main", args=args))
        with anyio.fail_after(10):
            return await host.wait_exit(pid)


async def value(tmp_path: Path, main: str, *args: Any, **app: Any) -> Any:
    event = await run(tmp_path, main, *args, **app)
    assert event.error is None, event.error
    return event.value


def raw(v: bytes | str) -> bytes:
    """A Lua string from an exit value: binary strings arrive as bytes, UTF-8 ones as str."""
    return v if isinstance(v, bytes) else v.encode("utf-8")


# -- json.encode --------------------------------------------------------------------------------


async def test_json_encode_scalars_and_tables(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local json = require("json")
        return function()
          return {
            json.encode(nil), json.encode(42), json.encode(3.14), json.encode(1.0),
            json.encode(math.huge), json.encode(0/0), json.encode(true), json.encode("a\\"b\\n"),
            json.encode({1, 2, 3}), json.encode({}), json.encode({b = 1, a = {c = {}, d = "x"}}),
            json.encode({z = 1, y = 2, x = 3, [""] = 0}), json.encode(-7), json.encode(1e21),
            json.encode({{}, {{}}}), json.encode("\\xff"),
          }
        end
        """,
    )
    assert got == [
        "null",
        "42",
        "3.14",
        "1",
        "null",
        "null",
        "true",
        '"a\\"b\\n"',
        "[1,2,3]",
        "[]",
        '{"a":{"c":[],"d":"x"},"b":1}',
        '{"":0,"x":3,"y":2,"z":1}',
        "-7",
        "1e+21",
        "[[],[[]]]",
        '"\ufffd"',
    ]


async def test_json_encode_errors_are_internal(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local json = require("json")
        return function()
          local cyclic = {}
          cyclic.self = cyclic
          local deep = {}
          local t = deep
          for i = 1, 130 do t[1] = {}; t = t[1] end
          local ok_deep = {}
          t = ok_deep
          for i = 1, 127 do t[1] = {}; t = t[1] end
          local cases = {
            mixed = {1, 2, x = 3},
            sparse = {[1] = 1, [3] = 3},
            cyclic = cyclic,
            func = {f = function() end},
            bare_func = print,
            channel = {c = channel.new()},
            deep = deep,
            co = coroutine.create(function() end),
          }
          local out = {}
          for name, v in pairs(cases) do
            local s, err = json.encode(v)
            out[name] = {s == nil, errors.is(err, errors.INTERNAL), tostring(err)}
          end
          out.ok_deep = json.encode(ok_deep) ~= nil
          return out
        end
        """,
    )
    assert got.pop("ok_deep") is True
    for name, (is_nil, internal, message) in got.items():
        assert is_nil and internal, (name, message)
    assert "mixed" in got["mixed"][2]
    assert "sparse" in got["sparse"][2]
    assert "cyclic" in got["cyclic"][2]
    assert "function" in got["func"][2]
    assert "channel" in got["channel"][2]
    assert "128" in got["deep"][2]


async def test_json_encode_runtime_values(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local json = require("json")
        local time = require("time")
        return function()
          local t = time.date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
          local whole = time.date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
          local d = time.parse_duration("1.5s")
          local e = errors.new({message = "boom", kind = errors.NOT_FOUND, retryable = false,
                                details = {id = 7}})
          local plain_err = errors.new("plain")
          local p = payload.new({a = 1, list = {1, 2}})
          local pj = payload.new({k = "v"}):transcode(payload.format.JSON)
          return {
            time = json.encode(t),
            whole = json.encode(whole),
            nested = json.encode({at = t, took = d}),
            duration = json.encode(d),
            err = json.encode(e),
            plain_err = json.encode(plain_err),
            payload = json.encode(p),
            payload_json = json.encode({p = pj}),
            payload_err = json.encode(payload.new(e)),
          }
        end
        """,
    )
    assert got["time"] == '"2024-01-02T03:04:05.123456789Z"'
    assert got["whole"] == '"2024-01-02T03:04:05Z"'
    assert got["duration"] == "1500000000"
    assert stdjson.loads(got["nested"]) == {
        "at": "2024-01-02T03:04:05.123456789Z",
        "took": 1500000000,
    }
    assert stdjson.loads(got["err"]) == {
        "message": "boom",
        "kind": "NotFound",
        "retryable": False,
        "details": {"id": 7},
    }
    assert stdjson.loads(got["plain_err"]) == {
        "message": "plain",
        "kind": "",
        "retryable": None,
        "details": None,
    }
    assert got["payload"] == '{"a":1,"list":[1,2]}'
    assert got["payload_json"] == '{"p":{"k":"v"}}'
    assert stdjson.loads(got["payload_err"])["message"] == "boom"


# -- json.decode --------------------------------------------------------------------------------


async def test_json_decode(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local json = require("json")
        return function()
          local v = json.decode('{"a": [1, 2.5, "s", true, null], "b": {"c": {}}, "n": 1e2}')
          local null_v, null_err = json.decode("null")
          local empty, empty_err = json.decode("")
          local bad, bad_err = json.decode("{bad")
          local num, num_err = json.decode(42)
          local nothing, nothing_err = json.decode(nil)
          return {
            a1 = math.type(v.a[1]), a2 = math.type(v.a[2]), a3 = v.a[3], a4 = v.a[4],
            len = #v.a, n = math.type(v.n), c_empty = next(v.b.c) == nil,
            null = null_v == nil and null_err == nil,
            i42 = math.type(json.decode("42")),
            big = math.type(json.decode("18446744073709551616")),
            tostr = tostring(json.decode("1")) .. "," .. tostring(json.decode("1.0")),
            empty = {empty == nil, empty_err:kind()},
            bad = {bad == nil, bad_err:kind()},
            num = {num == nil, num_err:kind()},
            nothing = {nothing == nil, nothing_err:kind()},
            unicode = json.decode('"\\\\u00e9\\\\ud83d\\\\ude00"'),
          }
        end
        """,
    )
    assert got["a1"] == "integer"
    assert got["a2"] == "float"
    assert got["a3"] == "s"
    assert got["a4"] is True
    assert got["len"] == 4  # the trailing null is a missing element
    assert got["n"] == "float"
    assert got["c_empty"] is True
    assert got["null"] is True
    assert got["i42"] == "integer"
    assert got["big"] == "float"
    assert got["tostr"] == "1,1.0"
    assert got["empty"] == [True, "Invalid"]
    assert got["bad"] == [True, "Internal"]
    assert got["num"] == [True, "Invalid"]
    assert got["nothing"] == [True, "Invalid"]
    assert got["unicode"] == "é😀"


async def test_json_round_trip(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local json = require("json")
        return function()
          local t = {name = "x", list = {1, 2, {deep = {true, false}}}, f = 0.5, map = {k = "v"}}
          local back = json.decode(json.encode(t))
          return {same = json.encode(back) == json.encode(t), back = back}
        end
        """,
    )
    assert got["same"] is True
    assert got["back"] == {
        "name": "x",
        "list": [1, 2, {"deep": [True, False]}],
        "f": 0.5,
        "map": {"k": "v"},
    }


# -- json.validate ------------------------------------------------------------------------------


async def test_json_validate(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local json = require("json")
        return function()
          local schema = {
            type = "object",
            properties = {name = {type = "string"}, age = {type = "integer", minimum = 0}},
            required = {"name"},
          }
          local function r(ok, err)
            return {ok, err and err:kind() or false, err and err:message() or false}
          end
          return {
            ok = r(json.validate(schema, {name = "a", age = 3})),
            bad = r(json.validate(schema, {name = 1, age = -1})),
            missing = r(json.validate(schema, {age = 3})),
            nil_data = r(json.validate(schema, nil)),
            string_schema = r(json.validate('{"type": "array", "items": {"type": "number"}}',
                                            {1, 2.5})),
            string_schema_bad = r(json.validate('{"type": "array"}', {a = 1})),
            bad_schema = r(json.validate('{"type": 12', {})),
            bad_schema2 = r(json.validate({type = "nope"}, 1)),
            empty_schema = r(json.validate({}, {a = 1})),
            func_value = r(json.validate(schema, {name = print})),
            vs_ok = r(json.validate_string(schema, '{"name": "x"}')),
            vs_bad = r(json.validate_string(schema, '{"name": 5}')),
            vs_malformed = r(json.validate_string(schema, '{"name": ')),
            vs_empty = r(json.validate_string(schema, "")),
            vs_nil = r(json.validate_string(schema, nil)),
            vs_table = r(json.validate_string(schema, {name = "x"})),
            time_value = r(json.validate({type = "string"}, require("time").now())),
          }
        end
        """,
    )
    assert got["ok"] == [True, False, False]
    for name in ("bad", "missing", "string_schema_bad", "vs_bad", "vs_malformed", "vs_table"):
        assert got[name][:2] == [False, "Invalid"], name
    assert "name" in got["bad"][2] and "age" in got["bad"][2]
    assert got["nil_data"][:2] == [False, "Invalid"]
    assert "data is required" in got["nil_data"][2]
    assert "data is required" in got["vs_empty"][2]
    assert "data is required" in got["vs_nil"][2]
    assert got["string_schema"][0] is True
    assert got["bad_schema"][:2] == [False, "Invalid"]
    assert got["bad_schema2"][:2] == [False, "Invalid"]
    assert got["empty_schema"][0] is True
    assert got["func_value"][:2] == [False, "Invalid"]
    assert got["vs_ok"][0] is True
    assert got["time_value"][0] is True


# -- uuid ---------------------------------------------------------------------------------------


async def test_uuid_known_answers_and_inspection(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local uuid = require("uuid")
        local DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
        local URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
        return function()
          local v5 = uuid.v5(DNS, "python.org")
          return {
            v3 = uuid.v3(DNS, "python.org"),
            v5 = v5,
            v5_url = uuid.v5(URL, "https://example.com"),
            v5_again = uuid.v5(DNS, "python.org") == v5,
            version = uuid.version(v5),
            variant = uuid.variant(v5),
            parse = uuid.parse(v5),
            simple = uuid.format(v5, "simple"),
            urn = uuid.format(v5, "urn"),
            standard = uuid.format(string.upper(v5)),
            from_simple = uuid.format("886313e13b8a53729b900c9aee199e5d"),
            valid = {uuid.validate(v5), uuid.validate("nope"), uuid.validate(42),
                     uuid.validate(nil), uuid.validate("urn:uuid:" .. v5)},
            nil_uuid = uuid.version("00000000-0000-0000-0000-000000000000"),
            ncs = uuid.variant("00000000-0000-0000-0000-000000000000"),
          }
        end
        """,
    )
    assert got["v3"] == str(stduuid.uuid3(stduuid.NAMESPACE_DNS, "python.org"))
    assert got["v3"] == "6fa459ea-ee8a-3ca4-894e-db77e160355e"
    assert got["v5"] == "886313e1-3b8a-5372-9b90-0c9aee199e5d"
    assert got["v5_url"] == str(stduuid.uuid5(stduuid.NAMESPACE_URL, "https://example.com"))
    assert got["v5_again"] is True
    assert got["version"] == 5
    assert got["variant"] == "RFC4122"
    assert got["parse"] == {"version": 5, "variant": "RFC4122"}
    assert got["simple"] == "886313e13b8a53729b900c9aee199e5d"
    assert got["urn"] == "urn:uuid:886313e1-3b8a-5372-9b90-0c9aee199e5d"
    assert got["standard"] == got["v5"]
    assert got["from_simple"] == got["v5"]
    assert got["valid"] == [True, False, False, False, True]
    assert got["nil_uuid"] == 0
    assert got["ncs"] == "NCS"


async def test_uuid_generators(tmp_path: Path) -> None:
    before = int(time.time())
    got = await value(
        tmp_path,
        """
        local uuid = require("uuid")
        return function()
          local out = {}
          for _, name in ipairs({"v1", "v4", "v7"}) do
            local id = uuid[name]()
            out[name] = {id = id, len = #id, version = uuid.version(id), valid = uuid.validate(id),
                         parse = uuid.parse(id), different = uuid[name]() ~= id}
          end
          return out
        end
        """,
    )
    after = int(time.time())
    for name, version in (("v1", 1), ("v4", 4), ("v7", 7)):
        item = got[name]
        assert item["len"] == 36 and item["version"] == version and item["valid"] is True
        assert item["different"] is True
        assert item["parse"]["variant"] == "RFC4122"
        assert stduuid.UUID(item["id"]).version == version
    assert before <= got["v1"]["parse"]["timestamp"] <= after
    assert before <= got["v7"]["parse"]["timestamp"] <= after
    assert len(got["v1"]["parse"]["node"]) == 17
    assert "timestamp" not in got["v4"]["parse"] and "node" not in got["v7"]["parse"]


async def test_uuid_errors(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local uuid = require("uuid")
        local DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
        return function()
          local out = {}
          local cases = {
            v5_bad_ns = function() return uuid.v5("not-a-uuid", "x") end,
            v5_no_name = function() return uuid.v5(DNS) end,
            v3_number_ns = function() return uuid.v3(42, "x") end,
            version_bad = function() return uuid.version("zzz") end,
            version_number = function() return uuid.version(42) end,
            variant_bad = function() return uuid.variant("") end,
            parse_bad = function() return uuid.parse("1234") end,
            parse_nil = function() return uuid.parse() end,
            format_style = function() return uuid.format(DNS, "fancy") end,
            format_bad = function() return uuid.format("x") end,
          }
          for name, f in pairs(cases) do
            local v, err = f()
            out[name] = {v == nil, err and err:kind() or false}
          end
          return out
        end
        """,
    )
    for name, result in got.items():
        assert result == [True, "Invalid"], name


async def test_uuid_random_and_clock_hooks(tmp_path: Path) -> None:
    class FixedClock:
        def now(self) -> GoTime:
            return GoTime(1_700_000_000_123_000_000)

    def setup(host: Any) -> None:
        host.random_bytes = lambda n: b"\x00" * n
        host.time_source = FixedClock()

    got = await value(
        tmp_path,
        """
        local uuid = require("uuid")
        local crypto = require("crypto")
        return function()
          local v7 = uuid.v7()
          return {v4 = uuid.v4(), v7 = v7, v7_ts = uuid.parse(v7).timestamp,
                  v1_ts = uuid.parse(uuid.v1()).timestamp,
                  rand = crypto.random.bytes(4), ruuid = crypto.random.uuid(),
                  rstring = crypto.random.string(3, "xyz")}
        end
        """,
        setup=setup,
    )
    assert got["v4"] == "00000000-0000-4000-8000-000000000000"
    assert got["ruuid"] == got["v4"]
    assert got["v7"] == "018bcfe5-687b-7000-8000-000000000000"
    assert got["v7_ts"] == 1_700_000_000
    assert got["v1_ts"] == 1_700_000_000
    assert got["rand"] == "\x00\x00\x00\x00"
    assert got["rstring"] == "xxx"


# -- crypto -------------------------------------------------------------------------------------


async def test_crypto_hmac_known_answers(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local crypto = require("crypto")
        local msg = "The quick brown fox jumps over the lazy dog"
        return function()
          local e1, err1 = crypto.hmac.sha256("", "data")
          local e2, err2 = crypto.hmac.sha512(nil, "data")
          return {
            s256 = crypto.hmac.sha256("key", msg),
            s512 = crypto.hmac.sha512("key", msg),
            binary = crypto.hmac.sha256("\\0\\255key", "\\1\\2"),
            empty_key = {e1 == nil, err1:kind()},
            nil_key = {e2 == nil, err2:kind()},
          }
        end
        """,
    )
    msg = b"The quick brown fox jumps over the lazy dog"
    assert got["s256"] == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert got["s512"] == hmac.new(b"key", msg, hashlib.sha512).hexdigest()
    assert got["binary"] == hmac.new(b"\x00\xffkey", b"\x01\x02", hashlib.sha256).hexdigest()
    assert got["empty_key"] == [True, "Invalid"]
    assert got["nil_key"] == [True, "Invalid"]


async def test_crypto_random(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local crypto = require("crypto")
        return function()
          local function err_kind(v, err) return {v == nil, err and err:kind() or false} end
          local b = crypto.random.bytes(32)
          local s = crypto.random.string(40)
          return {
            len = #b, differ = crypto.random.bytes(32) ~= b,
            s = s, ab = crypto.random.string(50, "ab"),
            uuid = crypto.random.uuid(),
            zero = err_kind(crypto.random.bytes(0)),
            huge = err_kind(crypto.random.bytes(1048577)),
            max_ok = #crypto.random.bytes(1048576),
            str_zero = err_kind(crypto.random.string(0)),
            bad_charset = err_kind(crypto.random.string(3, "")),
            not_number = err_kind(crypto.random.bytes("x")),
          }
        end
        """,
    )
    assert got["len"] == 32 and got["differ"] is True
    assert len(got["s"]) == 40 and got["s"].isalnum()
    assert set(got["ab"]) <= {"a", "b"} and len(got["ab"]) == 50
    assert stduuid.UUID(got["uuid"]).version == 4
    assert got["max_ok"] == 1048576
    for name in ("zero", "huge", "str_zero", "bad_charset", "not_number"):
        assert got[name] == [True, "Invalid"], name


async def test_crypto_encrypt_decrypt_round_trips(tmp_path: Path) -> None:
    event = await run(
        tmp_path,
        """
        local crypto = require("crypto")
        return function()
          local out = {}
          local data = "secret \\0\\255 data"
          for _, n in ipairs({16, 24, 32}) do
            local key = crypto.random.bytes(n)
            local ct = crypto.encrypt.aes(data, key)
            out["aes" .. n] = {crypto.decrypt.aes(ct, key) == data, #ct == #data + 28}
          end
          local key = string.rep("k", 32)
          local ct = crypto.encrypt.chacha20(data, key, "aad")
          out.chacha = crypto.decrypt.chacha20(ct, key, "aad") == data
          local _, wrong_aad = crypto.decrypt.chacha20(ct, key, "other")
          local _, wrong_key = crypto.decrypt.chacha20(ct, string.rep("j", 32))
          local _, short = crypto.decrypt.aes("short", string.rep("k", 16))
          local _, bad_aes_key = crypto.encrypt.aes(data, "0123456789")
          local _, empty_key = crypto.encrypt.aes(data, "")
          local _, bad_chacha_key = crypto.encrypt.chacha20(data, string.rep("k", 16))
          local _, no_data = crypto.encrypt.aes(nil, string.rep("k", 16))
          out.kinds = {wrong_aad:kind(), wrong_key:kind(), short:kind(), bad_aes_key:kind(),
                       empty_key:kind(), bad_chacha_key:kind(), no_data:kind()}
          out.aes_ct = crypto.encrypt.aes(data, string.rep("k", 16), "hdr")
          out.chacha_ct = crypto.encrypt.chacha20("", key)
          return out
        end
        """,
    )
    assert event.error is None, event.error
    got = event.value
    for n in (16, 24, 32):
        assert got[f"aes{n}"] == [True, True]
    assert got["chacha"] is True
    assert got["kinds"] == [
        "Internal",
        "Internal",
        "Internal",
        "Invalid",
        "Invalid",
        "Invalid",
        "Invalid",
    ]
    # Ciphertexts are raw bytes in Lua strings: nonce (12) + ciphertext + tag (16).
    sealed = raw(got["aes_ct"])
    plain = AESGCM(b"k" * 16).decrypt(sealed[:12], sealed[12:], b"hdr")
    assert plain == b"secret \x00\xff data"
    empty = raw(got["chacha_ct"])
    assert ChaCha20Poly1305(b"k" * 32).decrypt(empty[:12], empty[12:], None) == b""


async def test_crypto_jwt(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local crypto = require("crypto")
        return function(now)
          local key = "secret"
          local token = crypto.jwt.encode({sub = "u1", exp = now + 60, n = 3,
                                           _header = {kid = "k1"}}, key)
          local claims = crypto.jwt.verify(token, key)
          local t512 = crypto.jwt.encode({sub = "x", exp = now + 60}, key, "HS512")
          local expired = crypto.jwt.encode({sub = "x", exp = now - 10}, key)
          local no_exp = crypto.jwt.encode({sub = "y"}, key)
          local function r(v, err) return {v ~= nil, err and err:kind() or false} end
          return {
            token = token,
            claims = claims,
            hs512 = crypto.jwt.verify(t512, key, "HS512").sub,
            wrong_alg = r(crypto.jwt.verify(t512, key)),
            wrong_key = r(crypto.jwt.verify(token, "other")),
            expired = r(crypto.jwt.verify(expired, key)),
            no_exp_required = r(crypto.jwt.verify(no_exp, key)),
            no_exp_optional = crypto.jwt.verify(no_exp, key, "HS256", false).sub,
            malformed = r(crypto.jwt.verify("a.b", key)),
            bad_alg = r(crypto.jwt.encode({sub = "z"}, key, "none")),
            empty_key = r(crypto.jwt.encode({sub = "z"}, "")),
            bad_claims = r(crypto.jwt.encode("claims", key)),
          }
        end
        """,
        int(time.time()),
    )
    header = stdjson.loads(base64.urlsafe_b64decode(got["token"].split(".")[0] + "=="))
    assert header == {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    assert got["claims"]["sub"] == "u1" and got["claims"]["n"] == 3
    assert got["hs512"] == "x"
    assert got["wrong_alg"] == [False, "Internal"]
    assert got["wrong_key"] == [False, "Internal"]
    assert got["expired"] == [False, "Internal"]
    assert got["no_exp_required"] == [False, "Internal"]
    assert got["no_exp_optional"] == "y"
    assert got["malformed"] == [False, "Internal"]
    assert got["bad_alg"] == [False, "Invalid"]
    assert got["empty_key"] == [False, "Invalid"]
    assert got["bad_claims"] == [False, "Invalid"]


async def test_crypto_pbkdf2_and_compare(tmp_path: Path) -> None:
    got = await value(
        tmp_path,
        """
        local crypto = require("crypto")
        return function()
          local function r(v, err) return {v ~= nil, err and err:kind() or false} end
          return {
            k256 = crypto.pbkdf2("password", "salt", 1000, 32, "sha256"),
            k512 = crypto.pbkdf2("password", "salt", 10, 64, "sha512"),
            default_hash = crypto.pbkdf2("password", "salt", 10, 16),
            zero_iter = r(crypto.pbkdf2("p", "s", 0, 32, "sha256")),
            too_many = r(crypto.pbkdf2("p", "s", 10000001, 32, "sha256")),
            bad_hash = r(crypto.pbkdf2("p", "s", 10, 32, "md5")),
            bad_len = r(crypto.pbkdf2("p", "s", 10, 0, "sha256")),
            cmp = {crypto.constant_time_compare("abc", "abc"),
                   crypto.constant_time_compare("abc", "abd"),
                   crypto.constant_time_compare("abc", "ab"),
                   crypto.constant_time_compare("abc", 1),
                   crypto.constant_time_compare(nil, nil)},
          }
        end
        """,
    )
    assert raw(got["k256"]) == hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 1000, 32)
    assert raw(got["k512"]) == hashlib.pbkdf2_hmac("sha512", b"password", b"salt", 10, 64)
    assert raw(got["default_hash"]) == hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 10, 16)
    for name in ("zero_iter", "too_many", "bad_hash", "bad_len"):
        assert got[name] == [False, "Invalid"], name
    assert got["cmp"] == [True, False, False, False, False]


async def test_results_pass_straight_into_varargs(tmp_path: Path) -> None:
    """Success returns one value, so calls compose without dropping arguments."""
    got = await value(
        tmp_path,
        """
        local uuid = require("uuid")
        local json = require("json")
        local crypto = require("crypto")
        return function()
          local t = {uuid.v4(), json.encode(1), crypto.hmac.sha256("k", "d"), "last"}
          return #t
        end
        """,
    )
    assert got == 4


async def test_modules_must_be_listed(tmp_path: Path) -> None:
    event = await run(
        tmp_path,
        'return function() return require("json") end',
        modules=[],
    )
    assert event.error is not None
    assert 'module "json" is not allowed' in event.error.message
