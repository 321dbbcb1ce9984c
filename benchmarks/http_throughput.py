"""Requests per second of a JSON "hello" endpoint: a Lua handler on an `http.service`, and
the same answer from a bare ASGI app on the same server library (uvicorn), same settings,
same run, same load generator.

The load generator is `wrk` (Debian: `apt-get install wrk`), one thread and 50 connections,
in its own process. Without `wrk` the benchmark falls back to an httpx client with 50
concurrent connections in a child process (`python -m benchmarks.http_load`), which is
slower than the servers it measures; the line `http_throughput load_generator ...` says
which one ran. Each side gets a warm-up, then `DURATION` seconds.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import uvicorn

from actors.runtime import AppRuntime
from benchmarks.harness import report
from http_host.server import HttpServer, Uvicorn, listening_socket

APP = Path(__file__).parent / "apps" / "http"
CONNECTIONS = 50
DURATION = 5
WARMUP = 1
BODY = b'{"message":"hello"}'


async def bare_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The same answer with no runtime in between."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


async def load(url: str, seconds: int) -> float:
    """Requests per second that the load generator achieved against `url`."""
    wrk = shutil.which("wrk")
    if wrk is not None:
        command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", url]
        result = await anyio.run_process(command)
        match = re.search(rb"Requests/sec:\s+([\d.]+)", result.stdout)
        if match is None:
            raise RuntimeError(f"unexpected wrk output: {result.stdout.decode()}")
        return float(match.group(1))
    command = [sys.executable, "-m", "benchmarks.http_load", url, str(seconds), str(CONNECTIONS)]
    result = await anyio.run_process(command)
    return float(result.stdout.split()[-1])


async def measure() -> tuple[float, float]:
    runtime = AppRuntime.load(APP)
    async with runtime.node:
        await runtime.start()
        server: HttpServer = runtime.extensions["http_servers"]["bench:server"]
        sock = listening_socket("127.0.0.1", 0)  # the same socket set-up as http.service
        config = uvicorn.Config(bare_asgi, lifespan="off", log_config=None, access_log=False)
        bare = Uvicorn(config)  # the class HttpServer runs
        runtime.node.start_soon(bare.serve, [sock])
        bare_url = f"http://127.0.0.1:{sock.getsockname()[1]}/hello"
        lua_url = server.url + "/hello"
        await load(bare_url, WARMUP)
        await load(lua_url, WARMUP)
        asgi = await load(bare_url, DURATION)
        lua = await load(lua_url, DURATION)
        bare.should_exit = True
        return lua, asgi


def main() -> None:
    lua, asgi = anyio.run(measure)
    report("http_throughput", "lua_requests_per_s", lua)
    report("http_throughput", "asgi_requests_per_s", asgi)
    report("http_throughput", "lua_over_asgi_ratio", lua / asgi)
    print(f"http_throughput load_generator {'wrk' if shutil.which('wrk') else 'httpx'}")
