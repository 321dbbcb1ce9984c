"""`crypto` inside a workflow (temporal.md §8.1).

Secure randomness must be recorded, not derived from the workflow's seeded generator (which
is predictable): the functions that draw random bytes (`crypto.random.*`, the nonces of
`crypto.encrypt.*`) fetch them from the local activity `__wippy_random_bytes`, so they yield
(`crypto.lua`) until the bytes are in history. Everything else is pure and unchanged.

A function is first run with a probe that stops at its first draw: argument errors come
back at once without any activity, and the size of that first draw is what gets fetched. The
function then runs again on those bytes. Should it draw more (rejection sampling in
`random.string`), the rest is expanded from the fetched bytes with SHAKE-256, which keeps it
both secure and replayable from the one recorded value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import lupa.lua54 as lupa

from actors.errors import ActorError, Error
from corelib import cryptolib
from lua_bindings.contract import Reply, reply
from lua_bindings.convert import from_lua
from lua_bindings.modules import LuaModule
from lua_bindings.modules import crypto as stock
from temporal_host.wf_modules.host import WorkflowModuleHost


class _NeedRandom(BaseException):
    """Raised by the probe at the first draw (a BaseException: the cores catch Exception)."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def _probe(count: int) -> bytes:
    raise _NeedRandom(count)


class _Stream:
    """The fetched bytes first, then SHAKE-256 output keyed by them."""

    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self.buffer = seed
        self.blocks = 0

    def __call__(self, count: int) -> bytes:
        while len(self.buffer) < count:
            block = hashlib.shake_256(self.seed + self.blocks.to_bytes(8, "big")).digest(64)
            self.buffer += block
            self.blocks += 1
        out, self.buffer = self.buffer[:count], self.buffer[count:]
        return out


def _drawing(host: WorkflowModuleHost, fn: Callable[..., Any], arity: int) -> Callable[..., Reply]:
    """`fn(*args, rand)` as a parking call: answered at once (a value, or an argument
    error), or parked while the random bytes are fetched. Lua arguments beyond `arity` are
    ignored."""

    def call(*given: Any) -> Reply:
        try:
            # Plain copies: the arguments outlive this call (lua-runtime.md, lifetimes).
            args = tuple(_plain(a) for a in (*given, *(None,) * arity)[:arity])
            return reply.now(host.lua(fn(*args, _probe)))
        except ActorError as exc:
            return reply.failed(exc)
        except _NeedRandom as need:
            count = need.count
        waiter = host.park()

        def fetched(data: Any, error: Error | None) -> None:
            if error is not None:
                waiter.fire(None, error)
                return
            try:
                waiter.fire(fn(*args, _Stream(data)))
            except ActorError as exc:
                waiter.fire(None, exc.error)

        host.run.commands.random_bytes(count, fetched)
        return reply.parked()

    return call


def _plain(value: Any) -> Any:
    return from_lua(value) if lupa.lua_type(value) is not None else value


def _functions(host: WorkflowModuleHost) -> dict[str, Any]:
    functions = stock.MODULE.functions(host)

    def draw(fn: Callable[..., Any], arity: int) -> Callable[..., Reply]:
        return _drawing(host, fn, arity)

    functions["random"] = {
        "bytes": draw(cryptolib.random_bytes, 1),
        "string": draw(cryptolib.random_string, 2),
        "uuid": draw(cryptolib.random_uuid, 0),
    }
    functions["encrypt"] = {
        "aes": draw(cryptolib.encrypt_aes, 3),
        "chacha20": draw(cryptolib.encrypt_chacha20, 3),
    }
    return functions


MODULE = LuaModule("crypto", _functions, package=__package__)
