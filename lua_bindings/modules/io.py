"""The `io` module (lua-api §3.5): the terminal of a `terminal.host` process.

It works only on a terminal host (`ModuleHost.terminal`); on any other host every function
returns `nil, err` with kind `Unavailable`.

- `io.write(...)`: its arguments (strings or numbers, converted with `tostring`) concatenated,
  to stdout; `io.print(...)`: tab-separated, newline appended, to stdout; `io.eprint(...)`:
  the same to stderr; `io.flush()`; `io.raw(enable)`: terminal raw mode, reference counted
  (the terminal is raw while more `raw(true)` than `raw(false)` calls are in effect; a no-op
  when stdin is not a terminal; a terminal left raw is restored when Python exits). Each
  returns `true` or `nil, err` (`Internal` when the stream fails, `Invalid` for a bad
  argument).
- `io.read(n = 1024)` → a string of 1..n bytes, as soon as some input is available;
  `io.readline()` → the next line without its line ending (`\\n` or `\\r\\n`). At the end of
  input both return `nil, err` with message `EOF` (kind `""`); a final line without a
  newline is returned first. `n` outside 1..1 048 576 is `Invalid`. Reading blocks only the
  calling coroutine: the read runs in a worker thread (one at a time per host).
- `io.args()` → the command-line words after the command name, as an array of strings.

The terminal comes from the module contract (`lua_bindings.contract.ModuleHost`, set by the
CLI, or by tests; all optional):

- `host.terminal_args: list[str]` (default: none);
- `host.terminal_stdin`, `host.terminal_stdout`, `host.terminal_stderr`: binary streams
  replacing `sys.stdin.buffer`, `sys.stdout` and `sys.stderr`. The `sys` streams are looked
  up at each call (so output capture in tests works).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Callable
from io import TextIOBase
from typing import Any

import anyio

from actors import errors
from actors.errors import ActorError, Error, InternalError, InvalidError, UnavailableError
from lua_bindings.contract import ModuleHost, Reply, awaitable, nil_on_error, reply
from lua_bindings.convert import lua_type_name
from lua_bindings.modules import LuaModule

DEFAULT_READ = 1024
MAX_READ = 1_048_576


def eof() -> Error:
    return Error("EOF", errors.UNKNOWN, False)


def _write(stream: Any, data: bytes) -> None:
    """Write bytes to a binary stream, or to a text stream through its buffer (or as text
    when it has none), and flush: terminal output is not buffered, as in the reference."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()  # keep order with text already written through the text layer
        buffer.write(data)
        buffer.flush()
        return
    if isinstance(stream, TextIOBase):
        stream.write(data.decode("utf-8", "replace"))
    else:
        stream.write(data)
    stream.flush()


class Terminal:
    """The terminal state of one host: its streams, raw-mode count and read lock."""

    def __init__(self, host: ModuleHost) -> None:
        self.host = host
        self.raw_count = 0
        self._saved_mode: Any = None
        self._lock: anyio.Lock | None = None
        self._atexit = False

    # -- streams --------------------------------------------------------------------------

    def stdin(self) -> Any:
        """The input stream, or None when the program has no stdin (reads then see EOF)."""
        stream = self.host.terminal_stdin
        if stream is not None:
            return stream
        return getattr(sys.stdin, "buffer", sys.stdin)

    def stdout(self) -> Any:
        stream = self.host.terminal_stdout
        return stream if stream is not None else sys.stdout

    def stderr(self) -> Any:
        stream = self.host.terminal_stderr
        return stream if stream is not None else sys.stderr

    # -- operations ------------------------------------------------------------------------

    def check(self) -> None:
        if not self.host.terminal:
            raise UnavailableError("io is only available on a terminal host")

    @nil_on_error
    def write(self, which: bytes, data: Any) -> bool:
        self.check()
        if not isinstance(data, bytes):
            raise InvalidError(f"io: cannot write a {lua_type_name(data)}")
        stream = self.stderr() if which == b"stderr" else self.stdout()
        try:
            _write(stream, data)
        except (OSError, ValueError) as exc:
            raise InternalError(f"io: write failed: {exc}") from exc
        return True

    @nil_on_error
    def flush(self) -> bool:
        self.check()
        for stream in (self.stdout(), self.stderr()):
            try:
                stream.flush()
            except (OSError, ValueError) as exc:
                raise InternalError(f"io: flush failed: {exc}") from exc
        return True

    @nil_on_error
    def raw(self, enable: Any = True) -> bool:
        self.check()
        if not isinstance(enable, bool):
            raise InvalidError(f"io.raw expects a boolean, got {lua_type_name(enable)}")
        if enable:
            self.raw_count += 1
            if self.raw_count == 1:
                self._enter_raw()
        elif self.raw_count > 0:
            self.raw_count -= 1
            if self.raw_count == 0:
                self._leave_raw()
        return True

    def _fileno(self) -> int | None:
        try:
            stream = self.stdin()
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            return None
        return fd if os.isatty(fd) else None

    def _enter_raw(self) -> None:
        fd = self._fileno()
        if fd is None:
            return
        try:
            import termios
            import tty

            self._saved_mode = (fd, termios.tcgetattr(fd))
            tty.setraw(fd)
        except (ImportError, OSError) as exc:
            raise InternalError(f"io.raw: {exc}") from exc
        if not self._atexit:
            # Never leave the user's terminal raw, even if the process dies in raw mode.
            atexit.register(self._restore_quietly)
            self._atexit = True

    def _restore_quietly(self) -> None:
        with contextlib.suppress(ActorError):
            self._leave_raw()

    def _leave_raw(self) -> None:
        saved, self._saved_mode = self._saved_mode, None
        if saved is None:
            return
        try:
            import termios

            termios.tcsetattr(saved[0], termios.TCSADRAIN, saved[1])
        except (ImportError, OSError) as exc:
            raise InternalError(f"io.raw: {exc}") from exc

    @nil_on_error
    def args(self) -> Any:
        self.check()
        words = self.host.terminal_args or []
        return self.host.lua([str(word) for word in words])

    # -- reading -----------------------------------------------------------------------------

    @awaitable
    def read(self, n: Any = None) -> Reply:
        self.check()
        size = DEFAULT_READ if n is None else n
        if isinstance(size, float) and size.is_integer():
            size = int(size)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_READ:
            raise InvalidError(f"io.read: size must be an integer in 1..{MAX_READ}")
        stream = self.stdin()
        if stream is None:
            return reply.failed(eof())
        reader = getattr(stream, "read1", None) or stream.read
        return self._blocking(lambda: reader(size), lambda data: data)

    @awaitable
    def readline(self) -> Reply:
        self.check()
        stream = self.stdin()
        if stream is None:
            return reply.failed(eof())
        return self._blocking(stream.readline, _strip_line)

    def _blocking(self, read: Callable[[], Any], shape: Callable[[bytes], bytes]) -> Reply:
        """Run `read` in a worker thread; the Lua task parks until it returns."""

        async def work() -> Any:
            if self._lock is None:
                self._lock = anyio.Lock()
            async with self._lock:
                return await anyio.to_thread.run_sync(read, abandon_on_cancel=True)

        def answer(data: Any) -> tuple[Any, ...]:
            if isinstance(data, str):
                data = data.encode("utf-8", "surrogateescape")
            if not data:
                return None, eof()
            return (shape(data),)

        return self.host.call(work(), False, answer)


def _strip_line(line: bytes) -> bytes:
    if line.endswith(b"\n"):
        line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
    return line


def _functions(host: ModuleHost) -> dict[str, Any]:
    terminal = Terminal(host)
    return {
        "write": terminal.write,
        "flush": terminal.flush,
        "raw": terminal.raw,
        "args": terminal.args,
        "read": terminal.read,
        "readline": terminal.readline,
    }


MODULE = LuaModule("io", _functions)
