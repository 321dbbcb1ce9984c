"""The `http_client` module: outgoing HTTP on httpx, one connection pool per event loop.

Calls yield the calling coroutine until the answer (or the error) is there; other
coroutines and processes keep running. Failures are error values with kinds:

| what happened | kind | retryable |
|---|---|---|
| timeout (connect, read, or the whole `timeout`) | `Timeout` | yes |
| connection refused, DNS failure, network unreachable, reset | `Unavailable` | yes |
| a private / loopback address without the entry's allowance | `PermissionDenied` | no |
| a bad URL, method or option; a body over `max_response_body` | `Invalid` | no |
| anything else from the HTTP layer | `Internal` | no |

Address policy (the reference's SSRF protection): a request whose host is, or resolves to,
a loopback, private, link-local, unspecified, multicast or reserved address is refused
("not allowed: private IP 127.0.0.1") unless the calling entry allows it with
`meta.http_client.allow_private: true`. The check resolves the name before httpx connects,
so a name that changes its answer in between could slip through: the allowance is a guard
against mistakes and casual SSRF, not a sandbox.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus, unquote_plus, urlsplit

import anyio
import httpx

from actors.errors import (
    ActorError,
    InternalError,
    InvalidError,
    PermissionDeniedError,
    TimedOutError,
    UnavailableError,
)
from corelib import gotime
from http_host.modules.http import encode_json
from http_host.modules.stream import Stream, register
from lua_bindings.contract import ModuleHost, Reply, awaitable, nil_on_error
from lua_bindings.convert import from_lua, lua_kind, lua_type_name, text
from lua_bindings.modules import LuaModule

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RESPONSE_BODY = 64 * 1024 * 1024
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
OPTION_KEYS = frozenset(
    {
        "headers",
        "body",
        "timeout",
        "query",
        "cookies",
        "form",
        "files",
        "auth",
        "stream",
        "max_response_body",
        "unix_socket",
        "json",
    }
)

_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def pool() -> httpx.AsyncClient:
    """The connection pool of the running event loop (one per node)."""
    loop = asyncio.get_running_loop()
    client = _POOLS.get(loop)
    if client is None:
        client = httpx.AsyncClient(
            follow_redirects=True,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            trust_env=False,
        )
        _POOLS[loop] = client
    return client


# -- options --------------------------------------------------------------------------------


def _str_map(value: Any, field: str) -> dict[str, str]:
    data = from_lua(value)
    if data in (None, []):
        return {}
    if not isinstance(data, dict):
        raise InvalidError(f"{field} must be a table of name = value")
    return {str(k): v if isinstance(v, str) else str(v) for k, v in data.items()}


def _timeout(value: Any) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, bool):
        raise InvalidError("timeout must be seconds or a duration string")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, bytes | str):
        try:
            seconds = gotime.parse_duration(text(value)) / gotime.SECOND
        except ActorError:
            message = f"invalid timeout {text(value)!r} (seconds or a duration like '5s')"
            raise InvalidError(message) from None
    else:
        raise InvalidError("timeout must be seconds or a duration string")
    if seconds < 0:
        raise InvalidError("timeout cannot be negative")
    return seconds or DEFAULT_TIMEOUT


class Request:
    """One parsed request: everything checked before anything touches the network."""

    __slots__ = ("kwargs", "max_body", "method", "stream", "timeout", "url")

    def __init__(self, method: Any, url: Any, options: Any) -> None:
        if not isinstance(method, bytes | str) or text(method).upper() not in METHODS:
            raise InvalidError(f"unsupported method {from_lua(method)!r}")
        if not isinstance(url, bytes | str) or not url:
            raise InvalidError("URL must be a non-empty string")
        self.method = text(method).upper()
        self.url = text(url)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidError(f"invalid URL {self.url!r}: expected http(s)://host/...")
        opts: Mapping[Any, Any] = {}
        if options is not None:
            if lua_type_name(options) != "table":
                raise InvalidError("options must be a table")
            opts = {text(k): v for k, v in options.items() if isinstance(k, bytes | str)}
        unknown = sorted(set(opts) - OPTION_KEYS)
        if unknown:
            raise InvalidError(f"unknown option {unknown[0]!r}")
        if opts.get("unix_socket") is not None:
            raise PermissionDeniedError("not allowed: unix sockets")
        self.timeout = _timeout(opts.get("timeout"))
        self.stream = opts.get("stream") is True
        limit = opts.get("max_response_body")
        self.max_body = limit if isinstance(limit, int) and limit > 0 else DEFAULT_MAX_RESPONSE_BODY
        kwargs: dict[str, Any] = {"headers": _str_map(opts.get("headers"), "headers")}
        if opts.get("query") is not None:
            kwargs["params"] = _str_map(opts["query"], "query")
        if opts.get("cookies") is not None:
            cookies = _str_map(opts["cookies"], "cookies")
            kwargs["headers"]["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = opts.get("body")
        if body is not None:
            if not isinstance(body, bytes | str):
                raise InvalidError(f"body must be a string, got {lua_type_name(body)}")
            kwargs["content"] = body if isinstance(body, bytes) else body.encode()
        if opts.get("json") is not None:
            kwargs["content"] = encode_json(opts["json"])
            kwargs["headers"].setdefault("Content-Type", "application/json")
        if opts.get("form") is not None:
            kwargs["data"] = _str_map(opts["form"], "form")
        if opts.get("files") is not None:
            kwargs["files"] = _files(opts["files"])
        auth = opts.get("auth")
        if auth is not None:
            pair = _str_map(auth, "auth")
            kwargs["auth"] = (pair.get("user", ""), pair.get("pass", ""))
        self.kwargs = kwargs


def _files(value: Any) -> list[tuple[str, tuple[str, bytes, str]]]:
    files = from_lua(value)
    if not isinstance(files, list):
        raise InvalidError("files must be an array of {name, filename, content}")
    out = []
    for item in files:
        if not isinstance(item, dict) or not item.get("name") or not item.get("filename"):
            raise InvalidError("each file needs name and filename")
        content = item.get("content", "")
        data = content if isinstance(content, bytes) else str(content).encode()
        kind = str(item.get("content_type") or "application/octet-stream")
        out.append((str(item["name"]), (str(item["filename"]), data, kind)))
    return out


# -- the address policy -----------------------------------------------------------------------


def is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
    )


async def check_address(url: str) -> None:
    """PermissionDenied when `url`'s host is or resolves to a private address."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = await anyio.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise UnavailableError(f"cannot resolve {host}: {exc}", retryable=True) from None
        addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if is_private(address):
            raise PermissionDeniedError(
                f"not allowed: private IP {address} (allow it with "
                "meta.http_client.allow_private: true on the calling entry)"
            )


# -- responses --------------------------------------------------------------------------------


@register
class ResponseStream(Stream):
    """The body of a `stream = true` response, read from the network as Lua asks."""

    in_memory = False

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self._response = response
        self._chunks = response.aiter_raw()
        self._pending = b""
        self._seen = 0
        self._limit = limit
        self._done = False

    async def read(self, size: int) -> bytes | None:
        while not self._pending and not self._done:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._done = True
                break
            except httpx.HTTPError as exc:
                raise translate(exc, str(self._response.url)) from None
            self._seen += len(chunk)
            if self._seen > self._limit:
                await self.close()
                raise InvalidError(f"response body exceeds max_response_body ({self._limit} bytes)")
            self._pending = chunk
        if not self._pending:
            await self.close()
            return None
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    async def close(self) -> None:
        self._done = True
        self._pending = b""
        await self._response.aclose()


class EventReader:
    """Server-sent events of a streamed response, one `next()` at a time."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self._buffer = b""

    async def next(self) -> dict[str, Any] | None:
        """The next event `{name, data, id}` (name defaults to "message"), None at the end."""
        event: dict[str, Any] = {}
        data: list[str] = []
        while True:
            line = await self._line()
            if line is None:
                return self._event(event, data) if data else None
            if line == "":
                if data or event:
                    return self._event(event, data)
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event["name"] = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event["id"] = value
            elif field == "retry" and value.isdigit():
                event["retry"] = int(value)

    @staticmethod
    def _event(event: dict[str, Any], data: list[str]) -> dict[str, Any]:
        return {"name": "message", **event, "data": "\n".join(data)}

    async def _line(self) -> str | None:
        while True:
            for sep in (b"\r\n", b"\n", b"\r"):
                at = self._buffer.find(sep)
                if at >= 0 and not (sep == b"\r" and at == len(self._buffer) - 1):
                    line, self._buffer = self._buffer[:at], self._buffer[at + len(sep) :]
                    return line.decode("utf-8", "replace")
            chunk = await self.stream.read(65536)
            if chunk is None:
                if self._buffer:
                    line, self._buffer = self._buffer, b""
                    return line.decode("utf-8", "replace")
                return None
            self._buffer += chunk


lua_kind(EventReader, "http_client.events")


def translate(exc: Exception, url: str) -> ActorError:
    """An httpx failure as an error value with a kind."""
    if isinstance(exc, httpx.TimeoutException):
        return TimedOutError(f"request to {url} timed out", retryable=True)
    if isinstance(exc, httpx.ConnectError):
        if _refused(exc):
            return UnavailableError(f"connection refused: {url}", retryable=True)
        cause = str(exc) or "connection failed"
        return UnavailableError(f"cannot connect to {url}: {cause}", retryable=True)
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        return UnavailableError(f"connection to {url} failed: {exc}", retryable=True)
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return InvalidError(f"invalid URL {url!r}: {exc}")
    return InternalError(f"request to {url} failed: {type(exc).__name__}: {exc}")


def _refused(exc: BaseException) -> bool:
    """Whether a connect failure was a refusal (httpx wraps it a few levels deep)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _headers(response: httpx.Response) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


async def perform(request: Request, allow_private: bool) -> dict[str, Any]:
    """Send `request`; the response table, or ActorError with a kind."""
    if not allow_private:
        await check_address(request.url)
    client = pool()
    try:
        with anyio.fail_after(request.timeout):
            built = client.build_request(
                request.method, request.url, timeout=request.timeout, **request.kwargs
            )
            response = await client.send(built, stream=True)
            result: dict[str, Any] = {
                "status_code": response.status_code,
                "url": str(response.url),
                "headers": _headers(response),
                "cookies": dict(response.cookies.items()),
            }
            if request.stream:
                result["body_size"] = -1
                result["stream"] = ResponseStream(response, request.max_body)
                return result
            try:
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > request.max_body:
                        raise InvalidError(
                            f"response body exceeds max_response_body ({request.max_body} bytes)"
                        )
            finally:
                await response.aclose()
    except TimeoutError:
        raise TimedOutError(f"request to {request.url} timed out", retryable=True) from None
    except httpx.HTTPError as exc:
        raise translate(exc, request.url) from None
    result["body"] = bytes(body)
    result["body_size"] = len(body)
    return result


async def perform_batch(
    requests: list[Request], allow_private: bool
) -> tuple[list[Any], list[Any]]:
    responses: list[Any] = [None] * len(requests)
    failures: list[Any] = [None] * len(requests)

    async def one(i: int, request: Request) -> None:
        try:
            responses[i] = await perform(request, allow_private)
        except ActorError as exc:
            failures[i] = exc.error

    async with anyio.create_task_group() as group:
        for i, request in enumerate(requests):
            group.start_soon(one, i, request)
    return responses, failures


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _functions(host: ModuleHost) -> dict[str, Any]:
    lua = host.lua

    def allowed() -> bool:
        """Whether the calling entry may reach private addresses (its own meta says so)."""
        process = host.running
        entry = process.entry if process is not None else None
        meta = (entry.meta.get("http_client") if entry is not None else None) or {}
        return isinstance(meta, dict) and meta.get("allow_private") is True

    @awaitable
    def request(method: Any, url: Any, options: Any = None) -> Reply:
        parsed = Request(method, url, options)
        return host.call(perform(parsed, allowed()), False, lambda r: (lua(r),))

    @awaitable
    def request_batch(items: Any) -> Reply:
        if lua_type_name(items) != "table" or len(items) == 0:
            raise InvalidError("requests table cannot be empty")
        parsed = []
        for i in range(1, len(items) + 1):
            item = items[i]
            if lua_type_name(item) != "table":
                raise InvalidError("each request must be a table")
            options = item[3]
            if options is not None and lua_type_name(options) == "table" and options[b"stream"]:
                raise InvalidError("streaming not supported in batch requests")
            parsed.append(Request(item[1], item[2], options))

        def done(result: tuple[list[Any], list[Any]]) -> tuple[Any, ...]:
            responses, failures = result
            if any(f is not None for f in failures):
                return lua(responses), lua(failures)
            return (lua(responses),)

        return host.call(perform_batch(parsed, allowed()), False, done)

    @nil_on_error
    def events(stream: Any) -> tuple[Any, ...]:
        if not isinstance(stream, Stream):
            raise InvalidError("events expects a response stream")
        return (EventReader(stream),)

    @awaitable
    def next_event(reader: Any) -> Reply:
        if not isinstance(reader, EventReader):
            raise InvalidError("next expects an event reader")
        return host.call(reader.next(), reader.stream.in_memory, lambda e: (lua(e),))

    def encode_uri(value: Any) -> bytes:
        return quote_plus(text(value)).encode()

    @nil_on_error
    def decode_uri(value: Any) -> tuple[Any, ...]:
        source = text(value)
        bad = _BAD_ESCAPE.search(source)
        if bad is not None:
            raise InvalidError(f"invalid URL escape {source[bad.start() : bad.start() + 3]!r}")
        return (unquote_plus(source).encode("utf-8", "surrogateescape"),)

    return {
        "request": request,
        "request_batch": request_batch,
        "events": events,
        "next_event": next_event,
        "encode_uri": encode_uri,
        "decode_uri": decode_uri,
    }


MODULE = LuaModule("http_client", _functions, package=__package__)
