"""The `stream` type: a body read in pieces (`read(size)`, `close()`).

`http` hands one out for a request body (`req:stream()`), `http_client` for a response
requested with `stream = true`. Reading yields the calling coroutine only when data has to
come from the network; `read` returns nil at the end of the body.
"""

from __future__ import annotations

from typing import Any

from actors.errors import InvalidError
from lua_bindings.contract import ModuleHost, Reply, awaitable
from lua_bindings.convert import lua_kind
from lua_bindings.modules import LuaModule

DEFAULT_READ = 4096
MAX_READ = 16 * 1024 * 1024


class Stream:
    """A body to read in pieces. Subclasses say whether reads may have to wait."""

    in_memory = True

    async def read(self, size: int) -> bytes | None:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class BytesStream(Stream):
    """A body already in memory (requests: the server reads them before the handler runs)."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._at = 0

    async def read(self, size: int) -> bytes | None:
        if self._at >= len(self._data):
            return None
        chunk = self._data[self._at : self._at + size]
        self._at += len(chunk)
        return bytes(chunk)

    async def close(self) -> None:
        self._at = len(self._data)


lua_kind(Stream, "stream")
lua_kind(BytesStream, "stream")


def register(cls: type[Stream]) -> type[Stream]:
    """Make a Stream subclass a `stream` in Lua (its methods are stream.lua's)."""
    lua_kind(cls, "stream")
    return cls


def _stream(value: Any, method: str) -> Stream:
    if not isinstance(value, Stream):
        raise InvalidError(f"{method} expects a stream")
    return value


def _functions(host: ModuleHost) -> dict[str, Any]:
    @awaitable
    def read(stream: Any, size: Any = None) -> Reply:
        body = _stream(stream, "read")
        if size is None:
            size = DEFAULT_READ
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_READ:
            raise InvalidError(f"read size must be 1..{MAX_READ}")
        return host.call(body.read(size), body.in_memory, lambda data: (data,))

    @awaitable
    def close(stream: Any) -> Reply:
        body = _stream(stream, "close")
        return host.call(body.close(), body.in_memory)

    return {"read": read, "close": close}


MODULE = LuaModule("stream", _functions, package=__package__)
