"""Environment variables for apps: storages (`env.storage.*`) and declared variables
(`env.variable`), and the rules the `env` module follows.

Storages:

- `env.storage.memory`: in memory, starting from `values:` (a mapping, optional);
- `env.storage.os`: the process environment; read-only unless `read_only: false`;
- `env.storage.file`: a `.env` file (`file_path`, relative to the entry's folder;
  `auto_create` makes it on the first write; `file_mode`, default 0600);
- `env.storage.router`: `storages:` in order; reads take the first that has the key,
  writes go to the first that is writable.

Every storage takes `read_only: true`.

Which storage a key reaches (`Env.resolve`): a declared `env.variable` (by its `variable`
name or its entry id) uses its `storage` (default: the default storage) and may give a
`default` value and `read_only: true`; any other key goes to the default storage, the
`env.storage.*` entry with `meta.default: true` (or the only storage of the app). With no
default storage, an undeclared key is refused (`PermissionDenied`): app code reads only what
the app declared.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

import attrs

from actors import errors
from actors.errors import ActorError, invalid
from actors.registry import Entry, Registry

STORAGE_KINDS = frozenset(
    {"env.storage.memory", "env.storage.os", "env.storage.file", "env.storage.router"}
)
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")


def denied(message: str) -> ActorError:
    return errors.error(errors.PERMISSION_DENIED, message)


class Storage(Protocol):
    id: str
    read_only: bool

    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...
    def all(self) -> dict[str, str]: ...


@attrs.define
class MemoryStorage:
    id: str
    read_only: bool = False
    values: dict[str, str] = attrs.field(factory=dict)

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value

    def all(self) -> dict[str, str]:
        return dict(self.values)


@attrs.define
class OsStorage:
    id: str
    read_only: bool = True

    def get(self, key: str) -> str | None:
        return os.environ.get(key)

    def set(self, key: str, value: str) -> None:
        os.environ[key] = value

    def all(self) -> dict[str, str]:
        return dict(os.environ)


def parse_env_file(text: str) -> dict[str, str]:
    """`KEY=value` lines; `#` comments, blank lines and `export ` prefixes are fine;
    values may be quoted ('...' literally, "..." with \\n and \\" escapes)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            continue
        key, raw = match.groups()
        if len(raw) >= 2 and raw[0] == raw[-1] == "'":
            value = raw[1:-1]
        elif len(raw) >= 2 and raw[0] == raw[-1] == '"':
            value = raw[1:-1].replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        else:
            value = raw.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def _quote(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:@+-]*", value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@attrs.define
class FileStorage:
    id: str
    path: Path
    read_only: bool = False
    auto_create: bool = False
    file_mode: int = 0o600

    def _read(self) -> dict[str, str]:
        try:
            return parse_env_file(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise errors.error(errors.INTERNAL, f"env file {self.path}: {exc.strerror}") from exc

    def get(self, key: str) -> str | None:
        return self._read().get(key)

    def all(self) -> dict[str, str]:
        return self._read()

    def set(self, key: str, value: str) -> None:
        if not self.path.exists() and not self.auto_create:
            raise errors.not_found(f"env file {self.path} does not exist (auto_create is off)")
        values = self._read()
        values[key] = value
        text = "".join(f"{k}={_quote(v)}\n" for k, v in values.items())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".env-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(tmp, self.file_mode)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@attrs.define
class RouterStorage:
    id: str
    storages: list[Storage]
    read_only: bool = False

    def get(self, key: str) -> str | None:
        for storage in self.storages:
            value = storage.get(key)
            if value is not None:
                return value
        return None

    def set(self, key: str, value: str) -> None:
        for storage in self.storages:
            if not storage.read_only:
                storage.set(key, value)
                return
        raise denied(f"env storage {self.id}: every storage it routes to is read-only")

    def all(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for storage in reversed(self.storages):
            merged.update(storage.all())
        return merged


@attrs.frozen
class Variable:
    name: str
    entry_id: str
    storage: str | None
    default: str | None
    read_only: bool


def _flag(entry: Entry, name: str, default: bool) -> bool:
    value = entry.data.get(name, default)
    if not isinstance(value, bool):
        raise invalid(f"{name}: expected true or false, got {value!r}")
    return value


def _mode(value: Any) -> int:
    if value is None:
        return 0o600
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        raise invalid(f"file_mode: {value!r} is not an octal mode like 0600") from None


class Env:
    """The env storages and variables of one app."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._storages: dict[str, Storage] = {}
        self.variables: dict[str, Variable] = {}
        for entry in registry.by_kind("env.variable"):
            variable = self._variable(entry)
            self.variables.setdefault(variable.name, variable)
            self.variables.setdefault(entry.id, variable)
        storages = [e for kind in sorted(STORAGE_KINDS) for e in registry.by_kind(kind)]
        marked = [e for e in storages if e.meta.get("default") is True]
        self.default_id = (
            marked[0].id if marked else (storages[0].id if len(storages) == 1 else None)
        )

    @staticmethod
    def _variable(entry: Entry) -> Variable:
        name = entry.data.get("variable") or entry.name
        default = entry.data.get("default")
        storage = entry.data.get("storage")
        return Variable(
            str(name),
            entry.id,
            entry.resolve_ref(storage) if isinstance(storage, str) and storage else None,
            None if default is None else str(default),
            _flag(entry, "read_only", False),
        )

    def storage(self, storage_id: str, _seen: tuple[str, ...] = ()) -> Storage:
        found = self._storages.get(storage_id)
        if found is not None:
            return found
        entry = self.registry.get(storage_id)
        if entry is None or entry.kind not in STORAGE_KINDS:
            raise errors.error(errors.INTERNAL, f"env storage not found: {storage_id}")
        if storage_id in _seen:
            raise invalid(f"env storage {storage_id}: routes to itself")
        found = self._build(entry, (*_seen, storage_id))
        self._storages[storage_id] = found
        return found

    def _build(self, entry: Entry, seen: tuple[str, ...]) -> Storage:
        data = entry.data
        if entry.kind == "env.storage.memory":
            values = data.get("values") or {}
            if not isinstance(values, dict):
                raise invalid("values: expected a mapping")
            return MemoryStorage(
                entry.id,
                _flag(entry, "read_only", False),
                {str(k): str(v) for k, v in values.items()},
            )
        if entry.kind == "env.storage.os":
            return OsStorage(entry.id, _flag(entry, "read_only", True))
        if entry.kind == "env.storage.file":
            path = data.get("file_path")
            if not isinstance(path, str) or not path:
                raise invalid("missing file_path")
            base = entry.file.parent if entry.file is not None else Path.cwd()
            return FileStorage(
                entry.id,
                base / path,
                _flag(entry, "read_only", False),
                _flag(entry, "auto_create", False),
                _mode(data.get("file_mode")),
            )
        names = data.get("storages")
        if not isinstance(names, list) or not names:
            raise invalid("storages: expected a non-empty list of env.storage.* ids")
        return RouterStorage(
            entry.id,
            [self.storage(entry.resolve_ref(str(n)), seen) for n in names],
            _flag(entry, "read_only", False),
        )

    def resolve(self, key: str) -> tuple[Storage, Variable | None]:
        if not key:
            raise invalid("env key is empty")
        variable = self.variables.get(key)
        storage_id = (variable.storage if variable else None) or self.default_id
        if storage_id is None:
            raise denied(
                f"env variable {key} is not declared (add an env.variable entry, or mark an "
                "env.storage.* entry meta.default: true)"
            )
        return self.storage(storage_id), variable

    def get(self, key: str) -> str:
        storage, variable = self.resolve(key)
        name = variable.name if variable else key
        value = storage.get(name)
        if value is None and variable is not None:
            value = variable.default
        if value is None:
            raise errors.not_found(f"env variable {key} is not set")
        return value

    def set(self, key: str, value: str) -> None:
        storage, variable = self.resolve(key)
        if variable is not None and variable.read_only:
            raise denied(f"env variable {key} is read-only")
        if storage.read_only:
            raise denied(f"env storage {storage.id} is read-only")
        storage.set(variable.name if variable else key, value)

    def all(self) -> dict[str, str]:
        values: dict[str, str] = {}
        if self.default_id is not None:
            values.update(self.storage(self.default_id).all())
        for name, variable in self.variables.items():
            if name != variable.name:
                continue
            try:
                values[name] = self.get(name)
            except ActorError:
                continue
        return values
