"""The `http` module for handlers: the request being served and its response.

Outside a handler (no request on the current process) `http.request()` and
`http.response()` return `nil, err` (kind `Internal`), as the reference says; the constants
work anywhere. The functions find the request through `RequestSource`, which the host of an
`http.service` implements (server.py); nothing here knows that host.

Both response styles write to the same state: the reference's `res:set_status(201)` /
`res:write_json(v)` (each returns an error or nil), and the fluent
`http.response():status(202):json(v)` of the workflow description, whose methods return the
response and raise on a mistake (there is no second return value to carry it).
"""

from __future__ import annotations

import email.policy
from collections.abc import Callable
from email.parser import BytesParser
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl

from actors.errors import ActorError, Error, InternalError, InvalidError
from corelib import jsoncodec
from http_host.exchange import SSE, Exchange
from http_host.modules.stream import BytesStream, Stream, register
from lua_bindings.contract import ModuleHost, Reply, awaitable, nil_on_error, reply
from lua_bindings.convert import from_lua, lua_kind, lua_type_name, text
from lua_bindings.modules import LuaModule
from lua_bindings.modules.json import plain, runtime_value

METHOD = {m: m for m in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")}
STATUS = {
    "OK": 200,
    "CREATED": 201,
    "ACCEPTED": 202,
    "NO_CONTENT": 204,
    "PARTIAL_CONTENT": 206,
    "MOVED_PERMANENTLY": 301,
    "FOUND": 302,
    "SEE_OTHER": 303,
    "NOT_MODIFIED": 304,
    "TEMPORARY_REDIRECT": 307,
    "PERMANENT_REDIRECT": 308,
    "BAD_REQUEST": 400,
    "UNAUTHORIZED": 401,
    "PAYMENT_REQUIRED": 402,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "NOT_ACCEPTABLE": 406,
    "CONFLICT": 409,
    "GONE": 410,
    "UNPROCESSABLE": 422,
    "TOO_MANY_REQUESTS": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "BAD_GATEWAY": 502,
    "SERVICE_UNAVAILABLE": 503,
    "GATEWAY_TIMEOUT": 504,
    "VERSION_NOT_SUPPORTED": 505,
}
CONTENT = {
    "JSON": "application/json",
    "FORM": "application/x-www-form-urlencoded",
    "MULTIPART": "multipart/form-data",
    "TEXT": "text/plain",
    "STREAM": "application/octet-stream",
}
TRANSFER = {"CHUNKED": "chunked", "SSE": "sse"}
ERROR = {
    "PARSE_FAILED": "PARSE_FAILED",
    "INVALID_STATE": "INVALID_STATE",
    "WRITE_FAILED": "WRITE_FAILED",
    "STREAM_ERROR": "STREAM_ERROR",
}
CONSTANTS = {
    "METHOD": METHOD,
    "STATUS": STATUS,
    "CONTENT": CONTENT,
    "TRANSFER": TRANSFER,
    "ERROR": ERROR,
}


class UploadedFile:
    """One file of a multipart body (`MultipartFile` in Lua: name, size, header, stream)."""

    def __init__(self, filename: str, data: bytes, headers: dict[str, str]) -> None:
        self.filename = filename
        self.data = data
        self.headers = headers


lua_kind(UploadedFile, "http.multipart_file")


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """`{files = {field = {file, ...}}, values = {field = text or {text, ...}}}`."""
    if not content_type.lower().startswith(CONTENT["MULTIPART"]):
        raise InvalidError(f"not multipart/form-data (Content-Type {content_type or 'unset'})")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise InvalidError("malformed multipart body")
    files: dict[str, list[UploadedFile]] = {}
    values: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            headers = {k.lower(): str(v) for k, v in part.items()}
            files.setdefault(name, []).append(UploadedFile(filename, data, headers))
            continue
        value = data.decode(part.get_content_charset() or "utf-8", "replace")
        previous = values.get(name)
        if previous is None:
            values[name] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            values[name] = [previous, value]
    return {"files": files, "values": values}


@register
class RequestStream(Stream):
    """A request body longer than the server prefetched: what arrived, then the rest as it
    comes (each read waits for the client)."""

    in_memory = False

    def __init__(self, exchange: Exchange) -> None:
        if exchange.body_taken:
            raise InvalidError("request body was already read")
        exchange.body_taken = True
        self._exchange = exchange
        self._pending = exchange.body

    async def read(self, size: int) -> bytes | None:
        while not self._pending:
            chunk = await self._exchange.next_chunk()
            if chunk is None:
                return None
            self._pending = chunk
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    async def close(self) -> None:
        self._pending = b""


@runtime_checkable
class RequestSource(Protocol):
    """What the module needs from a host: the request of the handler running now."""

    def current_exchange(self) -> Exchange | None: ...


def encode_json(value: Any) -> bytes:
    """A Lua value as JSON bytes (the `json` module's encoding); Invalid when it cannot be."""
    try:
        return jsoncodec.encode(plain(value), runtime_value).encode("utf-8")
    except ActorError as exc:
        raise InvalidError(f"cannot encode JSON: {exc.error.message}") from None
    except RecursionError:
        raise InvalidError("cannot encode JSON: value nested too deeply") from None


def sse_event(event: Any) -> bytes:
    """`event: <name>\\ndata: <json>\\n\\n` from a Lua table `{name = ..., data = ...}`."""
    if lua_type_name(event) != "table":
        raise InvalidError("write_event expects a table {name = ..., data = ...}")
    name, data = event[b"name"], event[b"data"]
    if not isinstance(name, bytes) or not name:
        raise InvalidError("event name is required")
    if data is None:
        raise InvalidError("event data is required")
    if b"\n" in name or b"\r" in name:
        raise InvalidError("event name cannot contain a line break")
    lines = [b"event: " + name]
    event_id = event[b"id"]
    if event_id is not None:
        lines.append(b"id: " + str(from_lua(event_id)).encode())
    lines.append(b"data: " + encode_json(data))
    return b"\n".join(lines) + b"\n\n"


def _functions(host: ModuleHost) -> dict[str, Any]:
    source = host if isinstance(host, RequestSource) else None
    to_lua = host.lua

    def exchange() -> Exchange:
        found = source.current_exchange() if source is not None else None
        if found is None:
            raise InternalError("no HTTP request context")
        return found

    def answer(fn: Callable[..., Any]) -> Callable[..., Any]:
        """A request getter: `value` or `nil, err`."""

        @nil_on_error
        def getter(*args: Any) -> tuple[Any, ...]:
            return (to_lua(fn(exchange(), *args)),)

        return getter

    def setter(fn: Callable[..., None]) -> Callable[..., Error | None]:
        """A response setter: nil, or the error (the reference's methods return only that)."""

        def call(*args: Any) -> Error | None:
            try:
                fn(exchange(), *args)
            except ActorError as exc:
                return exc.error
            return None

        return call

    # Writes answer through rt.await with the error as their one value (or none): at once
    # while the response is buffered, when the client took the data once it streams.

    def send(ex: Exchange, data: bytes) -> Reply:
        async def attempt() -> Error | None:
            try:
                await ex.write(data)
            except ActorError as exc:
                return exc.error
            except Exception as exc:  # the connection broke under uvicorn
                return InternalError(f"write failed: {exc}").error
            return None

        return host.call(attempt(), False, lambda error: () if error is None else (error,))

    def writer(make: Callable[[Exchange, Any], bytes], sse: bool = False) -> Callable[..., Reply]:
        def write(value: Any = None) -> Reply:
            try:
                ex = exchange()
                data = make(ex, value)
                if sse and ex.transfer != SSE:
                    ex.set_transfer(SSE)  # Invalid once plain headers went out
            except ActorError as exc:
                return reply.now(exc.error)
            if not ex.streaming:
                ex.buffer_write(data)
                return reply.now()
            return send(ex, data)

        return write

    @nil_on_error
    def request(options: Any = None) -> tuple[Any, ...]:
        ex = exchange()
        if options is not None and lua_type_name(options) == "table":
            limit = options[b"max_body"]
            if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
                ex.read_limit = limit
        return (True,)

    @nil_on_error
    def response() -> tuple[Any, ...]:
        exchange()
        return (True,)

    def whole(convert: Callable[..., Any]) -> Callable[..., Reply]:
        """A reader of the whole body (behind rt.await): answered at once when the body is
        in memory, else when the rest has arrived."""

        @awaitable
        def read(*args: Any) -> Reply:
            ex = exchange()
            if ex.body_complete:
                return reply.now(to_lua(convert(ex, *args)))

            async def rest() -> Any:
                await ex.read_rest()
                return convert(ex, *args)

            return host.call(rest(), False, lambda value: (to_lua(value),))

        return read

    def body(ex: Exchange) -> bytes:
        return ex.take_body()

    def body_json(ex: Exchange) -> Any:
        data = ex.take_body()
        try:
            return jsoncodec.decode(data)
        except ActorError as exc:
            raise InvalidError(f"invalid JSON body: {exc.error.message}") from None

    def form(ex: Exchange) -> dict[str, Any]:
        content_type = (ex.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != CONTENT["FORM"]:
            raise InvalidError(f"not a form body (Content-Type {content_type or 'unset'})")
        out: dict[str, Any] = {}
        for key, value in parse_qsl(ex.take_body().decode("utf-8", "replace"), True):
            previous = out.get(key)
            if previous is None:
                out[key] = value
            elif isinstance(previous, list):
                previous.append(value)
            else:
                out[key] = [previous, value]
        return out

    def stream(ex: Exchange) -> Stream:
        if not ex.body_complete:
            return RequestStream(ex)
        return BytesStream(ex.take_body())

    def multipart(ex: Exchange, max_memory: Any = None) -> dict[str, Any]:
        return parse_multipart(ex.header("content-type") or "", ex.take_body())

    def param(ex: Exchange, name: Any) -> str | None:
        return ex.params.get(text(name))

    def accepts(ex: Exchange, content_type: Any) -> bool:
        accept = ex.header("accept") or ""
        wanted = text(content_type).lower()
        kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
        return wanted in kinds or "*/*" in kinds or f"{wanted.split('/')[0]}/*" in kinds

    def is_content_type(ex: Exchange, expected: Any) -> bool:
        return (ex.header("content-type") or "").lower().startswith(text(expected).lower())

    def set_header(ex: Exchange, name: Any, value: Any) -> None:
        if not isinstance(name, bytes | str) or not name:
            raise InvalidError("set_header expects a header name")
        if isinstance(value, bytes | str):
            value = text(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        else:
            raise InvalidError(f"header {text(name)}: expected a string value")
        ex.set_header(text(name), value)

    def set_transfer(ex: Exchange, mode: Any) -> None:
        ex.set_transfer(text(mode) if isinstance(mode, bytes | str) else repr(mode))

    def write_data(ex: Exchange, data: Any) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode()
        if isinstance(data, int | float) and not isinstance(data, bool):
            return str(data).encode()
        raise InvalidError(f"write expects a string, got {lua_type_name(data)}")

    def write_json(ex: Exchange, value: Any) -> bytes:
        data = encode_json(value)
        if not ex.started and not ex.has_header(b"content-type"):
            ex.set_header("content-type", CONTENT["JSON"])
        return data

    def write_text(ex: Exchange, value: Any) -> bytes:
        data = write_data(ex, value)
        if not ex.started and not ex.has_header(b"content-type"):
            ex.set_header("content-type", "text/plain; charset=utf-8")
        return data

    def flush() -> Reply:
        try:
            ex = exchange()
        except ActorError as exc:
            return reply.now(exc.error)
        return send(ex, b"")

    return {
        "constants": CONSTANTS,
        "request": request,
        "response": response,
        "method": answer(lambda ex: ex.method),
        "path": answer(lambda ex: ex.path),
        "query": answer(lambda ex, key: ex.query(text(key))),
        "query_params": answer(lambda ex: ex.query_params()),
        "header": answer(lambda ex, name: ex.header(text(name))),
        "headers": answer(lambda ex: ex.all_headers()),
        "content_type": answer(lambda ex: ex.header("content-type")),
        "content_length": answer(lambda ex: ex.content_length()),
        "host": answer(lambda ex: ex.header("host") or ""),
        "remote_addr": answer(lambda ex: ex.client),
        "body": whole(body),
        "body_json": whole(body_json),
        "form": whole(form),
        "parse_multipart": whole(multipart),
        "has_body": answer(lambda ex: ex.has_body),
        "accepts": answer(accepts),
        "is_content_type": answer(is_content_type),
        "param": answer(param),
        "params": answer(lambda ex: dict(ex.params)),
        "stream": answer(stream),
        "file_name": lambda f: f.filename,
        "file_size": lambda f: len(f.data),
        "file_header": lambda f, name: f.headers.get(text(name).lower()),
        "file_stream": lambda f: BytesStream(f.data),
        "set_status": setter(lambda ex, code: ex.set_status(code)),
        "set_header": setter(set_header),
        "set_transfer": setter(set_transfer),
        "write": writer(write_data),
        "write_text": writer(write_text),
        "write_json": writer(write_json),
        "write_event": writer(lambda ex, event: sse_event(event), sse=True),
        "flush": flush,
    }


MODULE = LuaModule("http", _functions, package=__package__)
