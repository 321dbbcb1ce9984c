"""One HTTP request and its response, as a handler sees them through the `http` module.

The server reads up to `PREFETCH` bytes of the request body before the handler runs; a
body that fits (nearly all do) is plain data here. A longer one is read on demand:
`body()` and its kin wait for the rest, `stream()` hands it out as it arrives, and both
stop at the service's `max_body` (the request is then answered 413).

The response is buffered: status, headers and writes only change this object, and the
server sends it in one go when the handler ends. It becomes a stream as soon as the
handler flushes, chooses a transfer mode or writes an SSE event: from then on every write
is sent at once (and waits for the client, so a slow reader slows the writer instead of
filling memory).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import anyio

from actors.errors import InternalError, InvalidError

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

CHUNKED = "chunked"
SSE = "sse"


class Exchange:
    """Request data plus response state of one request."""

    __slots__ = (
        "_lock",
        "_watch",
        "body",
        "body_complete",
        "body_limit",
        "body_taken",
        "buffer",
        "client",
        "disconnected",
        "extra_headers",
        "finished",
        "headers",
        "host_header",
        "method",
        "out_headers",
        "params",
        "path",
        "query_string",
        "read_limit",
        "receive",
        "send",
        "started",
        "status",
        "too_large",
        "transfer",
    )

    def __init__(
        self,
        scope: MutableMapping[str, Any],
        body: bytes,
        params: dict[str, str],
        send: Send,
        receive: Receive,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
        *,
        complete: bool = True,
        limit: int = 0,
    ) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query_string: bytes = scope.get("query_string", b"")
        self.headers: list[tuple[bytes, bytes]] = scope["headers"]
        client = scope.get("client")
        self.client = f"{client[0]}:{client[1]}" if client else ""
        self.params = params
        self.body = body
        self.body_complete = complete
        """Whether `body` is all of it (else the rest is still in `receive`)."""
        self.body_limit = limit
        self.too_large = False
        """A body read on demand went past `body_limit`: the server answers 413."""
        self.body_taken = False
        self.read_limit: int | None = None
        self.send = send
        self.receive = receive
        self.status = 200
        self.out_headers: list[tuple[bytes, bytes]] = []
        self.extra_headers = extra_headers or []
        """Headers a middleware adds to whatever the handler answers (CORS)."""
        self.buffer = bytearray()
        self.started = False
        self.finished = False
        self.disconnected = False
        self.transfer: str | None = None
        self._lock: anyio.Lock | None = None
        self._watch: asyncio.Task[None] | None = None

    # -- the request ------------------------------------------------------------------------

    def header(self, name: str) -> str | None:
        key = name.lower().encode("latin-1")
        values = [v.decode("latin-1") for k, v in self.headers if k == key]
        return ", ".join(values) if values else None

    def all_headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in self.headers:
            name, value = k.decode("latin-1"), v.decode("latin-1")
            out[name] = f"{out[name]}, {value}" if name in out else value
        return out

    def query_params(self) -> dict[str, str]:
        """All query parameters; repeated ones joined with commas (as the reference)."""
        out: dict[str, str] = {}
        for key, value in parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True):
            out[key] = f"{out[key]},{value}" if key in out else value
        return out

    def query(self, key: str) -> str | None:
        for name, value in parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True):
            if name == key:
                return value
        return None

    def content_length(self) -> int:
        value = self.header("content-length")
        return int(value) if value and value.isdigit() else len(self.body)

    @property
    def has_body(self) -> bool:
        return bool(self.body) or not self.body_complete

    async def next_chunk(self) -> bytes | None:
        """The next piece of a body read on demand (None at its end); InvalidError past
        the limit."""
        if self.body_complete:
            return None
        message = await self.receive()
        if message["type"] == "http.disconnect":
            self.body_complete = True
            raise InternalError("read failed: the client disconnected")
        chunk: bytes = message.get("body", b"")
        self.body_limit -= len(chunk)
        if self.body_limit < 0:
            self.too_large = True
            self.body_complete = True
            raise InvalidError("request body too large")
        if not message.get("more_body", False):
            self.body_complete = True
        return chunk

    async def read_rest(self) -> None:
        """Receive what is left of the body into `body`."""
        parts = [self.body]
        while not self.body_complete:
            chunk = await self.next_chunk()
            if chunk:
                parts.append(chunk)
        self.body = b"".join(parts)

    def take_body(self) -> bytes:
        """The body, once (as the reference: a body can be read only once); it must be
        complete (`read_rest`)."""
        if self.body_taken:
            raise InvalidError("request body was already read")
        if not self.body:
            raise InvalidError("request has no body")
        if self.read_limit is not None and len(self.body) > self.read_limit:
            raise InvalidError(f"request body too large (limit {self.read_limit} bytes)")
        self.body_taken = True
        return self.body

    # -- the response -----------------------------------------------------------------------

    def _headers_not_sent(self) -> None:
        if self.started:
            raise InvalidError("headers already sent")

    def set_status(self, code: Any) -> None:
        self._headers_not_sent()
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise InvalidError(f"invalid status code {code!r}")
        self.status = code

    def set_header(self, name: str, value: str) -> None:
        self._headers_not_sent()
        if not name or any(c in name + value for c in "\r\n"):
            raise InvalidError(f"invalid header {name!r}")
        key = name.lower().encode("latin-1")
        self.out_headers = [(k, v) for k, v in self.out_headers if k != key]
        self.out_headers.append((key, value.encode("latin-1")))

    def has_header(self, name: bytes) -> bool:
        return any(k == name for k, _ in self.out_headers)

    def set_transfer(self, mode: str) -> None:
        self._headers_not_sent()
        if mode not in (CHUNKED, SSE):
            raise InvalidError(f"unknown transfer mode {mode!r} (chunked or sse)")
        self.transfer = mode
        if mode == SSE:
            self.set_header("content-type", "text/event-stream")
            self.set_header("cache-control", "no-cache")

    @property
    def streaming(self) -> bool:
        return self.started or self.transfer is not None

    def buffer_write(self, data: bytes) -> None:
        self.buffer += data

    async def write(self, data: bytes) -> None:
        """Send `data` now (starting the response if needed)."""
        if self.disconnected:
            raise InternalError("write failed: the client disconnected")
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if not self.started:
                await self._start()
            if data:
                await self.send({"type": "http.response.body", "body": data, "more_body": True})

    async def _start(self) -> None:
        self.started = True
        await self.send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": self.out_headers + self.extra_headers,
            }
        )
        if self.body_complete:  # else the handler may still be reading the request
            self.stream_watch()
        if self.buffer:
            data, self.buffer = bytes(self.buffer), bytearray()
            await self.send({"type": "http.response.body", "body": data, "more_body": True})

    def stream_watch(self) -> None:
        """Note a client that goes away while we stream, so writes fail instead of piling up."""

        async def watch() -> None:
            while not self.finished:
                message = await self.receive()
                if message["type"] == "http.disconnect":
                    self.disconnected = True
                    return

        # Runs beside the request task (asyncio: uvicorn gives us no task group); it ends
        # when the client leaves or the connection closes.
        self._watch = asyncio.get_running_loop().create_task(watch())

    async def finish(self) -> None:
        """The handler ended: send what is left."""
        if self.finished:
            return
        self.finished = True
        if self.disconnected:
            return
        if not self.started:
            self.started = True
            headers = self.out_headers + self.extra_headers
            if self.buffer and not self.has_header(b"content-type"):
                headers.append((b"content-type", b"text/plain; charset=utf-8"))
            headers.append((b"content-length", str(len(self.buffer)).encode()))
            await self.send(
                {"type": "http.response.start", "status": self.status, "headers": headers}
            )
            await self.send({"type": "http.response.body", "body": bytes(self.buffer)})
            return
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})


async def send_simple(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = b"application/json",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A whole response in two ASGI messages (errors, preflights, static files)."""
    out = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})
