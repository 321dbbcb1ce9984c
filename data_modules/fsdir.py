"""Directories apps may use (`fs.directory`), and the one rule that keeps them inside.

Paths are the app's view: `/` is the directory's root, relative paths start at the
volume's working directory. A path is resolved lexically first (`.` and `..`), and a `..`
that would climb above the root is refused; an absolute path therefore never names a file of
the host (`/etc/passwd` is `<root>/etc/passwd`). Then symbolic links are followed and the
real target must still be inside the root's real path: a link that points out is refused
too. Refusals are `PermissionDenied` with a message naming the path.

Entry fields: `directory` (required; relative to the entry's YAML folder, or with
`base: project` to the current directory), `auto_init` (create it when missing), `mode`
(octal, for directories the module creates; default 0755).
"""

from __future__ import annotations

import os
import stat as stat_module
from pathlib import Path
from typing import Any

from actors import errors
from actors.errors import ActorError, invalid

FILE_MODE = 0o644


def escape(path: str) -> ActorError:
    return errors.error(errors.PERMISSION_DENIED, f"path {path!r} is outside the directory root")


def normalize(cwd: str, path: str) -> str:
    """The virtual absolute path of `path` seen from `cwd` (both in the app's view)."""
    if "\0" in path:
        raise invalid("path contains a NUL byte")
    if not path:
        raise invalid("path is empty")
    parts: list[str] = [] if path.startswith("/") else [p for p in cwd.split("/") if p]
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise escape(path)
            parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


class Directory:
    def __init__(self, entry_id: str, root: Path, mode: int = 0o755) -> None:
        self.id = entry_id
        self.root = root
        self.mode = mode

    def real(self, cwd: str, path: str) -> tuple[str, Path]:
        """(virtual path, real path), refusing any path that leaves the root."""
        virtual = normalize(cwd, path)
        root = Path(os.path.realpath(self.root))
        target = root.joinpath(*[p for p in virtual.split("/") if p])
        resolved = os.path.realpath(target)
        if resolved != str(root) and not resolved.startswith(str(root) + os.sep):
            raise escape(path)
        return virtual, target

    # -- operations (all take the caller's working directory) --------------------------------

    def chdir(self, cwd: str, path: str) -> str:
        virtual, real = self.real(cwd, path)
        if not real.exists():
            raise errors.not_found(f"no such directory: {virtual}")
        if not real.is_dir():
            raise invalid(f"not a directory: {virtual}")
        return virtual

    def stat(self, cwd: str, path: str) -> dict[str, Any]:
        virtual, real = self.real(cwd, path)
        try:
            return info(real, virtual)
        except FileNotFoundError:
            raise errors.not_found(f"no such file or directory: {virtual}") from None

    def exists(self, cwd: str, path: str) -> bool:
        if path == "":
            return False
        return self.real(cwd, path)[1].exists()

    def isdir(self, cwd: str, path: str) -> bool:
        virtual, real = self.real(cwd, path)
        if not real.exists():
            raise errors.not_found(f"no such file or directory: {virtual}")
        return real.is_dir()

    def mkdir(self, cwd: str, path: str) -> None:
        virtual, real = self.real(cwd, path)
        try:
            real.mkdir(self.mode)
        except FileExistsError:
            raise errors.error(errors.ALREADY_EXISTS, f"already exists: {virtual}") from None
        except FileNotFoundError:
            raise errors.not_found(f"parent directory missing: {virtual}") from None

    def remove(self, cwd: str, path: str) -> None:
        virtual, real = self.real(cwd, path)
        if virtual == "/":
            raise invalid("cannot remove the directory root")
        try:
            if real.is_dir() and not real.is_symlink():
                real.rmdir()
            else:
                real.unlink()
        except FileNotFoundError:
            raise errors.not_found(f"no such file or directory: {virtual}") from None
        except OSError as exc:
            if exc.errno == 39:  # ENOTEMPTY
                raise invalid(f"directory not empty: {virtual}") from None
            raise errors.error(errors.INTERNAL, f"remove {virtual}: {exc.strerror}") from None

    def readdir(self, cwd: str, path: str) -> list[dict[str, str]]:
        virtual, real = self.real(cwd, path)
        if not real.exists():
            raise errors.not_found(f"no such directory: {virtual}")
        if not real.is_dir():
            raise invalid(f"not a directory: {virtual}")
        return [
            {"name": e.name, "type": "directory" if e.is_dir() else "file"}
            for e in sorted(os.scandir(real), key=lambda e: e.name)
        ]

    def readfile(self, cwd: str, path: str) -> bytes:
        virtual, real = self.real(cwd, path)
        try:
            return real.read_bytes()
        except FileNotFoundError:
            raise errors.not_found(f"no such file: {virtual}") from None
        except IsADirectoryError:
            raise invalid(f"is a directory: {virtual}") from None

    def open(self, cwd: str, path: str, mode: str) -> Any:
        flags = {
            "r": os.O_RDONLY,
            "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
            "wx": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
            "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
        }.get(mode)
        if flags is None:
            raise invalid(f"invalid mode {mode!r} (r, w, wx or a)")
        virtual, real = self.real(cwd, path)
        try:
            fd = os.open(real, flags, FILE_MODE)
        except FileNotFoundError:
            raise errors.not_found(f"no such file: {virtual}") from None
        except FileExistsError:
            raise errors.error(errors.ALREADY_EXISTS, f"already exists: {virtual}") from None
        except IsADirectoryError:
            raise invalid(f"is a directory: {virtual}") from None
        except OSError as exc:
            raise errors.error(errors.INTERNAL, f"open {virtual}: {exc.strerror}") from None
        return os.fdopen(fd, "rb" if mode == "r" else ("ab" if mode == "a" else "wb")), virtual

    def writefile(self, cwd: str, path: str, data: bytes, mode: str = "w") -> None:
        if mode not in ("w", "wx", "a"):
            raise invalid(f"invalid mode {mode!r} (w, wx or a)")
        handle, _ = self.open(cwd, path, mode)
        with handle:
            handle.write(data)


def info(real: Path, virtual: str) -> dict[str, Any]:
    st = real.stat()
    is_dir = stat_module.S_ISDIR(st.st_mode)
    return {
        "name": real.name if virtual != "/" else "/",
        "size": st.st_size,
        "mode": stat_module.S_IMODE(st.st_mode),
        "modified": int(st.st_mtime),
        "is_dir": is_dir,
        "type": "directory" if is_dir else "file",
    }


def from_entry(entry_id: str, data: dict[str, Any], base: Path) -> Directory:
    directory = data.get("directory")
    if not isinstance(directory, str) or not directory:
        raise invalid("missing directory")
    where = data.get("base") or "module"
    if where not in ("module", "project"):
        raise invalid(f"base: {where!r} is not module or project")
    mode_text = data.get("mode")
    try:
        mode = int(str(mode_text), 8) if mode_text is not None else 0o755
    except ValueError:
        raise invalid(f"mode: {mode_text!r} is not an octal mode like 0755") from None
    root = (Path.cwd() if where == "project" else base) / directory
    if data.get("auto_init") is True:
        root.mkdir(mode, parents=True, exist_ok=True)
    return Directory(entry_id, root, mode)
