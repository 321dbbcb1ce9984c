"""An `http.service`: uvicorn serving our ASGI app in the node's event loop.

Why uvicorn (docs/http.md): it is the most used ASGI server, it runs inside an event loop we
already own (`Server.serve` is a coroutine, so no thread and no second loop), and it lets
us pass the listening socket we bound ourselves, so "port in use" is an error at boot that
names the address. Its graceful shutdown (stop accepting, wait for connections in flight,
then cancel) is exactly what a service needs; we only keep it from installing signal
handlers, because the CLI owns the signals and stops the node, and the node stops us.

Each request runs its endpoint's `function.lua` handler as a process on the service's own
Lua host (`HttpHost`, named after the service entry): it has a PID, may spawn, send, call
functions and start workflows, and a handler that waits (on a workflow, a timer, another
call) parks only its own process. The host's scheduler runs every handler of the service;
uvicorn runs each connection in its own task.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Iterator, MutableMapping
from typing import Any

import anyio
import uvicorn

from actors import errors
from actors.errors import ActorError, Error, UnavailableError
from actors.host import SpawnRequest
from actors.pid import PID
from http_host import static
from http_host.config import DEFAULT_HANDLER_TIMEOUT, ServiceConfig
from http_host.cors import Cors
from http_host.exchange import Exchange, Receive, Send, send_simple
from http_host.routing import Route, RouteTable
from lua_bindings.app import LuaApp
from lua_bindings.host import FUNCTION_KINDS, LuaHost

log = logging.getLogger(__name__)

PREFETCH = 1024 * 1024
"""Bytes of a request body read before its handler runs; the rest is read on demand."""


class HandlerTimeout(Exception):
    """A handler ran past its endpoint's timeout (and was terminated)."""


class HttpHost(LuaHost):
    """The Lua host running the handlers of one service; it knows each handler's request."""

    def __init__(self, name: str, app: LuaApp) -> None:
        super().__init__(name, app, kinds=FUNCTION_KINDS)
        self.exchanges: dict[PID, Exchange] = {}
        self.server: HttpServer | None = None

    def current_exchange(self) -> Exchange | None:
        """The request of the running handler (None outside a handler)."""
        process = self.scheduler.current
        return None if process is None else self.exchanges.get(process.pid)

    async def handle(self, exchange: Exchange, route: Route, timeout: float) -> Error | None:
        """Run the route's handler for `exchange`: None, or the error it failed with.
        Raises `HandlerTimeout` (after terminating it) when it runs past `timeout`."""
        done = anyio.Event()
        outcome: list[Error | None] = []

        def exited(event: Any) -> None:
            outcome.append(event.error)
            done.set()

        try:
            pid, _ = self.spawn_call(SpawnRequest(target=route.endpoint.func), exited)
        except ActorError as exc:
            return exc.error
        self.exchanges[pid] = exchange
        late = f"handler {route.endpoint.func} did not finish within {timeout:g}s"
        killed = False
        with anyio.move_on_after(timeout):
            try:
                await done.wait()
            finally:
                self.exchanges.pop(pid, None)
                process = self.processes.get(pid)
                if process is not None:  # past its timeout, or the request task was cancelled
                    self.kill(process, Error(late, errors.TIMEOUT, True))
                    killed = True
        if killed:
            raise HandlerTimeout(late)
        return outcome[0]

    async def stop(self, grace: float) -> None:
        """Stop accepting, let requests in flight finish (up to the stop timeout), then stop
        the handlers that are left like any host."""
        if self.server is not None:
            await self.server.shutdown()
        await super().stop(grace)


class Uvicorn(uvicorn.Server):
    """uvicorn without its signal handlers: the CLI owns SIGINT/SIGTERM and stops the node."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listening_socket(host: str, port: int) -> socket.socket:
    """A non-blocking socket listening on `host:port`, set up for uvicorn (`sockets=`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. asyncio sets it on the transports it makes itself,
    # but not on those of a listening socket handed to uvicorn: without it each answer on a
    # kept-alive connection waited ~40 ms for the client's delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def bind(config: ServiceConfig) -> socket.socket:
    """The service's listening socket; an address in use is an error naming it."""
    try:
        return listening_socket(config.host, config.port)
    except OSError as exc:
        raise UnavailableError(
            f"http.service {config.id}: cannot listen on {config.addr}: {exc.strerror}"
        ) from None


def _json_error(message: str, **extra: Any) -> bytes:
    return json.dumps({"error": message, **extra}).encode()


class HttpServer:
    """One `http.service`: its socket, route table, handler host and uvicorn server."""

    def __init__(self, config: ServiceConfig, table: RouteTable, host: HttpHost) -> None:
        self.config = config
        self.table = table
        self.host = host
        host.server = self
        self.cors = {
            router.id: Cors.from_options(router.options)
            for router in table.routers
            if "cors" in router.middleware
        }
        self.socket: socket.socket | None = None
        self.port = config.port
        self._uvicorn: Uvicorn | None = None
        self._stopped = anyio.Event()

    @property
    def url(self) -> str:
        host = self.config.host
        host = "127.0.0.1" if host == "0.0.0.0" else (f"[{host}]" if ":" in host else host)
        return f"http://{host}:{self.port}"

    def listen(self) -> None:
        self.socket = bind(self.config)
        self.port = self.socket.getsockname()[1]

    async def serve(self) -> None:
        """Serve until `shutdown`; the socket must be bound (`listen`)."""
        assert self.socket is not None
        config = uvicorn.Config(
            self,
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_keep_alive=max(int(self.config.idle_timeout), 1),
            timeout_graceful_shutdown=max(int(self.config.stop_timeout), 1),
        )
        self._uvicorn = Uvicorn(config)
        try:
            await self._uvicorn.serve(sockets=[self.socket])
        finally:
            self._stopped.set()

    async def shutdown(self) -> None:
        if self._uvicorn is None:
            return
        self._uvicorn.should_exit = True
        with anyio.move_on_after(self.config.stop_timeout + 2):
            await self._stopped.wait()

    # -- the ASGI app ---------------------------------------------------------------------------

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        match = self.table.match(method, path)
        cors = self.cors.get(match.router.id) if match.router is not None else None
        extra: list[tuple[bytes, bytes]] = []
        if cors is not None:
            origin = _header(scope, b"origin")
            answer = cors.preflight(
                method, origin, _header(scope, b"access-control-request-method")
            )
            if answer is not None:
                await send_simple(send, 204, b"", b"text/plain", answer)
                return
            extra = cors.actual(origin)
        route = match.route
        if route is None:
            mount = self.table.static_for(path)
            if match.allowed:
                allow = [(b"allow", ", ".join(match.allowed).encode()), *extra]
                await send_simple(send, 405, _json_error("method not allowed"), headers=allow)
            elif mount is not None and method in ("GET", "HEAD"):
                await static.serve(mount, path, send, extra)
            else:
                await send_simple(send, 404, _json_error("not found", path=path), headers=extra)
            return
        read = await self._read_body(scope, receive, send, extra)
        if read is None:
            return
        body, complete = read
        limit = self.config.max_body - len(body)
        exchange = Exchange(
            scope, body, match.params, send, receive, extra, complete=complete, limit=limit
        )
        timeout = route.endpoint.timeout or self.config.write_timeout or DEFAULT_HANDLER_TIMEOUT
        started = time.monotonic()
        try:
            error = await self.host.handle(exchange, route, timeout)
        except HandlerTimeout as exc:
            log.warning("%s %s: %s", method, path, exc)
            await self._answer_failure(exchange, 504, "handler timed out")
            return
        if exchange.too_large and not exchange.started:
            # a body read on demand went past max_body: the same answer as when prefetching
            exchange.finished = True
            body = _too_large(self.config.max_body)
            await send_simple(send, 413, body, headers=exchange.extra_headers)
            return
        if error is None:
            await exchange.finish()
            return
        log.error(
            "%s %s: handler %s failed after %.3fs: [%s] %s",
            method,
            path,
            route.endpoint.func,
            time.monotonic() - started,
            error.kind or "error",
            error,
        )
        await self._answer_failure(exchange, 500, "internal error")

    async def _read_body(
        self,
        scope: MutableMapping[str, Any],
        receive: Receive,
        send: Send,
        extra: list[tuple[bytes, bytes]],
    ) -> tuple[bytes, bool] | None:
        """The body's first `PREFETCH` bytes and whether that is all of it, or None when the
        request was answered (413 by its Content-Length or while prefetching, 408)."""
        limit = self.config.max_body
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await send_simple(send, 413, _too_large(limit), headers=extra)
            return None
        chunks: list[bytes] = []
        size = 0
        complete = False
        with anyio.move_on_after(self.config.read_timeout or float("inf")) as waited:
            while size < PREFETCH:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await send_simple(send, 413, _too_large(limit), headers=extra)
                    return None
                chunks.append(chunk)
                if not message.get("more_body", False):
                    complete = True
                    break
        if waited.cancelled_caught:
            await send_simple(send, 408, _json_error("request body not received in time"))
            return None
        return b"".join(chunks), complete

    @staticmethod
    async def _answer_failure(exchange: Exchange, status: int, message: str) -> None:
        """A failed handler: an error status if nothing was sent yet, else end the stream."""
        if exchange.started:
            await exchange.finish()
            return
        exchange.finished = True
        headers = exchange.extra_headers
        await send_simple(exchange.send, status, _json_error(message), headers=headers)


def _too_large(limit: int) -> bytes:
    return _json_error(f"request body is larger than {limit} bytes")


def _header(scope: MutableMapping[str, Any], name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""
