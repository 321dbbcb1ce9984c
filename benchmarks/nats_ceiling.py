"""The ceiling `node_pingpong` runs under: the same ping-pong with no runtime at all.

Two OS processes, one nats-server, one small message bounced; each side is a bare asyncio
protocol that speaks just enough of the NATS wire protocol (CONNECT, SUB, PUB, MSG, PING)
to do it: no client library, no parsing beyond a line split, no Lua, no msgpack. Whatever
the nodes lose against this is the runtime's; what this loses against distributed Erlang is
the machine's (Python's event loop, loopback wake-ups through nats-server).

`python -m benchmarks.nats_ceiling URL LOOP` is the ponger; `ceiling(uvloop)` starts the
server and the ponger and pings from this process, both on uvloop or both on the standard
asyncio loop (the runtime runs on uvloop: `actors.event_loop`).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

import anyio
import lupa.lua54 as lupa
import msgpack

from actors.cluster import NatsServer
from benchmarks.node_bench import stop_peer

ROUND_TRIPS = 20_000
PAYLOAD = b"x" * 48


class _Wire(asyncio.Protocol):
    """Subscribes to `listen` and hands each message's payload to `on_message`."""

    def __init__(self, listen: bytes, on_message: Callable[[bytes], None]) -> None:
        self.listen = listen
        self.on_message = on_message
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.ready = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = wire = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        wire.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wire.write(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
        wire.write(b"SUB %s 1\r\nPING\r\n" % self.listen)

    def publish(self, subject: bytes, payload: bytes) -> None:
        assert self.transport is not None
        self.transport.write(b"PUB %s %d\r\n%s\r\n" % (subject, len(payload), payload))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        while (eol := buffer.find(b"\r\n")) >= 0:
            line = buffer[:eol]
            if line.startswith(b"MSG "):
                end = eol + 2 + int(line.rsplit(b" ", 1)[1])
                if len(buffer) < end + 2:
                    break
                self.on_message(buffer[eol + 2 : end])
                buffer = buffer[end + 2 :]
                continue
            if line == b"PING":
                assert self.transport is not None
                self.transport.write(b"PONG\r\n")
            elif line == b"PONG" and not self.ready.done():
                self.ready.set_result(None)
            buffer = buffer[eol + 2 :]
        self.buffer = buffer


async def _connect(url: str, listen: bytes, on_message: Callable[[bytes], None]) -> _Wire:
    address = urlsplit(url)
    if address.hostname is None or address.port is None:
        raise ValueError(f"not a nats://host:port URL: {url!r}")
    loop = asyncio.get_running_loop()
    _, wire = await loop.create_connection(
        lambda: _Wire(listen, on_message), address.hostname, address.port
    )
    await wire.ready  # subscribed: the server answered the PING after the SUB
    return wire


def _skeleton(me: str, them: str) -> Callable[[bytes], bytes]:
    """The per-hop work of the `skeleton` variant: frame in, Lua step, frame out."""
    lua = lupa.LuaRuntime()
    process = lua.eval("function(n) while true do n = coroutine.yield(n) end end").coroutine(0)
    process.send(None)  # started: waits for its first message

    def hop(payload: bytes) -> bytes:
        _, _, _, _, value = msgpack.unpackb(payload)
        return msgpack.packb([0, me, them, "ping", process.send(value)])

    return hop


def _first_payload(skeleton: bool) -> bytes:
    return msgpack.packb([0, "{a@h|1}", "{b@h|1}", "ping", 1]) if skeleton else PAYLOAD


async def _pong(url: str, skeleton: bool) -> None:
    wire: _Wire | None = None
    step = _skeleton("{b@h|1}", "{a@h|1}") if skeleton else None

    def answer(payload: bytes) -> None:
        assert wire is not None
        wire.publish(b"pong", step(payload) if step is not None else payload)

    wire = await _connect(url, b"ping", answer)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def ceiling(uvloop: bool, skeleton: bool = False) -> float:
    """Round trips per second of the bare ping-pong (one run), on uvloop or on asyncio;
    `skeleton`: with the least per-hop work of a runtime (module docstring)."""
    return anyio.run(_ping, uvloop, skeleton, backend_options={"use_uvloop": uvloop})


async def _ping(uvloop: bool, skeleton: bool) -> float:
    async with NatsServer() as server:
        loop = "uvloop" if uvloop else "asyncio"
        peer = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.nats_ceiling", server.url, loop]
            + (["skeleton"] if skeleton else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert peer.stdout is not None
            peer.stdout.readline()
            done = asyncio.get_running_loop().create_future()
            count = 0
            wire: _Wire | None = None
            step = _skeleton("{a@h|1}", "{b@h|1}") if skeleton else None

            def bounce(payload: bytes) -> None:
                nonlocal count
                count += 1
                if count == ROUND_TRIPS:
                    done.set_result(None)
                else:
                    assert wire is not None
                    wire.publish(b"ping", step(payload) if step is not None else payload)

            wire = await _connect(server.url, b"pong", bounce)
            started = time.perf_counter()
            wire.publish(b"ping", _first_payload(skeleton))
            await done
            rate = ROUND_TRIPS / (time.perf_counter() - started)
            assert wire.transport is not None
            wire.transport.close()
            return rate
        finally:
            stop_peer(peer)


if __name__ == "__main__":
    anyio.run(
        _pong,
        sys.argv[1],
        sys.argv[3:] == ["skeleton"],
        backend_options={"use_uvloop": sys.argv[2] == "uvloop"},
    )
