"""The `fs` module: the Python half (`fs.lua` wraps it). `fsdir.Directory` keeps every path
inside its root; this file adds open files, owned by the process that opened them and closed
when it exits.

File operations run on the host's thread: they are local-disk calls, bounded by the size
asked for (read `n` bytes, one line); whole-file `readfile`/`writefile` of large files are
better done with `open` and a loop of `read`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

from actors import errors
from actors.errors import invalid
from data_modules.bridge import Bridge, Owned, string
from data_modules.fsdir import info
from data_modules.resources import Resources
from lua_bindings.contract import ModuleHost, nil_on_error
from lua_bindings.convert import lua_type_name, text
from lua_bindings.modules import LuaModule

DEFAULT_READ = 4096
WHENCE = {"set": os.SEEK_SET, "cur": os.SEEK_CUR, "end": os.SEEK_END}


@attrs.define(eq=False)
class OpenFile:
    file: Any
    virtual: str
    real: Path


def _str(value: Any, what: str = "path") -> str:
    return string(value, what)


class FsFunctions:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.resources = Resources.of(bridge.registry)
        self._files: Owned[OpenFile] = Owned(bridge, "file", lambda opened: opened.file.close())

    def directory(self, dir_id: Any) -> Any:
        return self.resources.directory(_str(dir_id, "name"))

    def get(self, name: Any = None) -> Any:
        ref = self.bridge.entry_id(name, "filesystem")
        self.resources.directory(ref)
        return self.bridge.lua(ref)

    def call(self, dir_id: Any, op: Any, cwd: Any, path: Any = None, *args: Any) -> Any:
        directory = self.directory(dir_id)
        name = text(op)
        if name not in (
            "chdir",
            "stat",
            "exists",
            "isdir",
            "mkdir",
            "remove",
            "readdir",
            "readfile",
            "writefile",
        ):
            raise invalid(f"unknown fs operation {name}")
        if name != "exists" and (path is None or path == b""):
            raise invalid("path is empty")
        if name == "writefile":
            data, mode = (*args, None, None)[:2]
            if data is None:
                raise invalid("writefile: data is nil")
            if not isinstance(data, bytes):
                raise invalid(f"writefile: data must be a string, got {lua_type_name(data)}")
            directory.writefile(text(cwd), _str(path), data, text(mode) if mode else "w")
            return True
        result = getattr(directory, name)(text(cwd), _str(path) if path is not None else "")
        if name in ("mkdir", "remove"):
            return True
        return self.bridge.lua(result)

    # -- open files -----------------------------------------------------------------------

    def open(self, dir_id: Any, cwd: Any, path: Any = None, mode: Any = None) -> Any:
        directory = self.directory(dir_id)
        if mode is None:
            raise invalid("open: mode is required (r, w, wx or a)")
        handle, virtual = directory.open(text(cwd), _str(path), _str(mode, "mode"))
        real = directory.real(text(cwd), _str(path))[1]
        return self._files.add(OpenFile(handle, virtual, real))

    def _file(self, number: Any) -> OpenFile:
        return self._files.get(number)

    def read(self, number: Any, size: Any = None) -> Any:
        opened = self._file(number)
        n = DEFAULT_READ if size is None else size
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise invalid("read: size must be a positive integer")
        data = opened.file.read(n)
        if not data:
            raise errors.error(errors.NOT_FOUND, "EOF")
        return data

    def write(self, number: Any, data: Any = None) -> Any:
        opened = self._file(number)
        if not isinstance(data, bytes) or not data:
            raise invalid("write: data must be a non-empty string")
        opened.file.write(data)
        return True

    def seek(self, number: Any, whence: Any = None, offset: Any = 0) -> Any:
        opened = self._file(number)
        how = WHENCE.get(text(whence) if isinstance(whence, bytes) else "")
        if how is None:
            raise invalid("seek: whence must be set, cur or end")
        if not isinstance(offset, int) or isinstance(offset, bool):
            raise invalid("seek: offset must be an integer")
        return opened.file.seek(offset, how)

    def sync(self, number: Any) -> Any:
        opened = self._file(number)
        opened.file.flush()
        os.fsync(opened.file.fileno())
        return True

    def fstat(self, number: Any) -> Any:
        opened = self._file(number)
        return self.bridge.lua(info(opened.real, opened.virtual))

    def close(self, number: Any) -> Any:
        opened = self._files.remove(number)
        if opened is not None:
            opened.file.close()
        return True

    def scan(self, number: Any, split: Any) -> Any:
        """The next token of a scanner, or nil at the end."""
        opened = self._file(number)
        how = text(split)
        f = opened.file
        if how == "lines":
            line = f.readline()
            if not line:
                return None
            return line[:-2] if line.endswith(b"\r\n") else line.rstrip(b"\n")
        if how == "bytes":
            return f.read(1) or None
        if how == "runes":
            first = f.read(1)
            if not first:
                return None
            extra = (
                3 if first[0] >= 0xF0 else 2 if first[0] >= 0xE0 else 1 if first[0] >= 0xC0 else 0
            )
            return first + f.read(extra)
        # words: skip whitespace, then take until whitespace
        char = f.read(1)
        while char and char.isspace():
            char = f.read(1)
        if not char:
            return None
        word = bytearray()
        while char and not char.isspace():
            word += char
            char = f.read(1)
        return bytes(word)


def _functions(host: ModuleHost) -> dict[str, Any]:
    fs = FsFunctions(Bridge(host))
    return {
        name: nil_on_error(getattr(fs, name))
        for name in (
            "get",
            "call",
            "open",
            "read",
            "write",
            "seek",
            "sync",
            "fstat",
            "close",
            "scan",
        )
    }


MODULE = LuaModule("fs", _functions, package="data_modules")
