"""The module contract (lua_bindings/contract.py) and the error kinds (actors/errors.py).

A module written only against `ModuleHost` (the example of docs/lua-runtime.md, "Writing a
module") is plugged into a Lua host and used by a process: answered-now, parked and failing
calls, the `nil, err` decorator, and the error kinds Lua code sees.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import anyio
import pytest

from actors import errors
from actors.errors import (
    ActorError,
    Error,
    InvalidError,
    NotFoundError,
    TimedOutError,
)
from actors.host import SpawnRequest
from actors.runtime import AppRuntime
from lua_bindings.app import LuaApp
from lua_bindings.contract import Reply, awaitable, false_on_error, nil_on_error, reply
from lua_bindings.host import LuaHost
from tests.example_module import greet
from tests.lua_harness import write_app

pytestmark = pytest.mark.anyio

MAIN = """
local greet = require("greet")
return function()
  local out = {}
  out.hello = greet.hello("ann")
  local v, err = greet.hello(42)
  out.bad = {v == nil, err:kind(), err:message()}
  out.now = greet.later(0, "at once")
  out.later = greet.later(0.01, "later")
  local w, werr = greet.later(-1)
  out.later_bad = {w == nil, werr:kind()}
  out.known = greet.known("ann")
  local ok, kerr = greet.known("bob")
  out.unknown = {ok, kerr:kind()}
  return out
end
"""


async def test_a_module_written_against_the_contract(tmp_path: Path) -> None:
    app_dir = write_app(tmp_path / "app", MAIN, modules=["greet"])
    runtime = AppRuntime.load(app_dir)
    async with runtime.node:
        await runtime.start()
        app = LuaApp(runtime.app.registry)
        host = LuaHost("test:custom", app, modules={"greet": greet.MODULE})
        runtime.node.add_host(host)
        pid = await runtime.node.spawn("test:custom", SpawnRequest(target="test:main"))
        with anyio.fail_after(10):
            event = await host.wait_exit(pid)
    assert event.error is None, event.error
    got = event.value
    assert got["hello"] == f"hello, ann from {pid}"
    assert got["bad"] == [True, "Invalid", "greet.hello: name must be a non-empty string"]
    assert got["now"] == "at once"
    assert got["later"] == "later"
    assert got["later_bad"] == [True, "Invalid"]
    assert got["known"] is True
    assert got["unknown"] == [False, "NotFound"]


# -- replies and decorators in Python -------------------------------------------------------------


def test_reply_shapes() -> None:
    err = Error("boom", errors.INVALID, False)
    assert reply.parked() == reply.PARKED
    assert reply.values(reply.parked()) is None
    assert reply.values(reply.now(1, 2)) == (1, 2)
    assert reply.failed(err) == reply.failed(InvalidError(err))
    assert reply.values(reply.failed(err)) == (None, err)


def test_decorators_turn_actor_errors_into_lua_failures() -> None:
    @nil_on_error
    def nil_fails() -> int:
        raise NotFoundError("gone")

    @false_on_error
    def false_fails() -> bool:
        raise InvalidError("bad")

    @awaitable
    def await_fails() -> Reply:
        raise TimedOutError("slow", retryable=True)

    value, err = nil_fails()  # type: ignore[misc]
    assert value is None and err == Error("gone", errors.NOT_FOUND, False)
    flag, err = false_fails()  # type: ignore[misc]
    assert flag is False and err.kind == errors.INVALID
    assert await_fails() == (1, None, Error("slow", errors.TIMEOUT, True))

    @nil_on_error
    def other() -> int:
        raise KeyError("not an ActorError")

    with pytest.raises(KeyError):
        other()


# -- error kinds -----------------------------------------------------------------------------------


def test_error_kinds_are_exception_subclasses_carrying_the_data_form() -> None:
    exc = NotFoundError("process not found: x", pid="x")
    assert isinstance(exc, ActorError) and exc.kind == errors.NOT_FOUND
    assert exc.error == Error("process not found: x", errors.NOT_FOUND, False, {"pid": "x"})
    assert isinstance(errors.invalid("bad"), InvalidError)
    assert isinstance(errors.error(errors.TIMEOUT, "slow"), TimedOutError)
    assert type(errors.error("Custom", "odd")) is ActorError


def test_an_error_that_crossed_as_data_is_raised_by_kind() -> None:
    data = NotFoundError("gone").error.to_dict()
    with pytest.raises(NotFoundError) as caught:
        raise ActorError.of(Error.from_dict(data))
    assert caught.value.error.message == "gone"


def test_pickling_keeps_the_kind_and_the_whole_error() -> None:
    exc = InvalidError(Error("bad", errors.INVALID, False, {"field": "x"}, context=("ctx",)))
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is InvalidError and copy.error == exc.error


def test_as_error_names_foreign_exceptions() -> None:
    assert errors.as_error(InvalidError("x")) == Error("x", errors.INVALID, False)
    assert errors.as_error(KeyError("k")) == Error("KeyError: 'k'", errors.INTERNAL, False)
