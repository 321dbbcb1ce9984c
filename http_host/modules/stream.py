"""The `stream` type: a body read in pieces (`read(size)`, `close()`).

`http` hands one out for a request body (`req:stream()`), `http_client` for a response
requested with `stream = true`. Reading yields the calling coroutine only when data has to
come from the network; `read` returns nil at the end of the body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import Error
from lua_bindings.convert import lua_kind
from lua_bindings.modules import LuaModule

if TYPE_CHECKING:
    from lua_bindings.host import LuaHost

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


def _functions(host: LuaHost) -> dict[str, Any]:
    def read(stream: Any, size: Any = None) -> tuple[Any, ...]:
        if not isinstance(stream, Stream):
            return 1, None, Error("read expects a stream", errors.INVALID, False)
        if size is None:
            size = DEFAULT_READ
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_READ:
            return 1, None, Error(f"read size must be 1..{MAX_READ}", errors.INVALID, False)
        return host.call(stream.read(size), stream.in_memory, lambda data: (data,))

    def close(stream: Any) -> tuple[Any, ...]:
        if not isinstance(stream, Stream):
            return 1, None, Error("close expects a stream", errors.INVALID, False)
        return host.call(stream.close(), stream.in_memory)

    return {"read": read, "close": close}


MODULE = LuaModule("stream", _functions, package=__package__)
