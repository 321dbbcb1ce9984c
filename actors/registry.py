"""The app registry: entries loaded from an app folder's YAML definition files.

An app (Wippy style, `spec/lua-api.md` §2) is a tree of YAML definition files, each naming a
namespace and one or more entries. The loader turns them into immutable `Entry` values held by
a `Registry`. It is deliberately forgiving: one broken file or entry becomes a `LoadError` and
every other entry still loads, because a single typo must not take a whole app down. Entry
kinds are opaque strings here; the hosts that run them are plugins (`actors.kinds`), so this
module never imports Lua or Temporal code.
"""

from __future__ import annotations

import copy
import fnmatch
import logging
import os
import re
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from actors.errors import ALREADY_EXISTS, ActorError, error, invalid, not_found

logger = logging.getLogger(__name__)

LOCK_FILE = "wippy.lock"
DEFAULT_SRC_DIR = "src"
SKIP_DIRS_ENV = "SKIP_TEST_DIRS"
# Folders never scanned: our own state folder (hidden folders are skipped as well).
ALWAYS_SKIPPED = frozenset({".actors"})
YAML_SUFFIXES = (".yaml", ".yml")

# Top-level keys of an entry that are not kind-specific data.
_ENTRY_KEYS = frozenset({"name", "kind", "meta"})
# Extra top-level keys of a single-entry file that belong to the file, not the entry.
_FILE_KEYS = frozenset({"namespace", "version"})

_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")

# Aliases accepted by `Registry.find` for the entry's own fields (Wippy writes `.kind`, `.ns`).
_FIELD_KEYS = {
    "id": "id",
    "kind": "kind",
    "namespace": "namespace",
    "name": "name",
    ".id": "id",
    ".kind": "kind",
    ".ns": "namespace",
    ".name": "name",
}


# --------------------------------------------------------------------------------------------
# Entries


@attrs.frozen(hash=False)
class Entry:
    """One registry entry.

    `data` holds every top-level YAML field other than `name`, `kind` and `meta` (the YAML has
    no `data:` wrapper, §1.1). The dicts are not copied on read, so treat them as read-only;
    changes go through a new `Entry` (`attrs.evolve`) and `Registry.add(..., replace=True)`.
    """

    id: str
    namespace: str
    name: str
    kind: str
    meta: dict[str, Any] = attrs.field(factory=dict)
    data: dict[str, Any] = attrs.field(factory=dict)
    file: Path | None = None

    def __hash__(self) -> int:
        # The generated hash would fail on the dict fields; equal entries share an id anyway.
        return hash(self.id)

    @classmethod
    def create(
        cls,
        namespace: str,
        name: str,
        kind: str,
        meta: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        file: Path | None = None,
    ) -> Entry:
        """Build an entry whose `id` is derived from namespace and name, so they never disagree."""
        return cls(f"{namespace}:{name}", namespace, name, kind, meta or {}, data or {}, file)

    def source_path(self) -> Path | None:
        """The Lua (or other) source file, resolved against the definition file's folder.

        `source: file://x.lua` is relative to the YAML file (§2.2). A plain path is accepted the
        same way; any other URL scheme is not a local file and gives None.
        """
        source = self.data.get("source")
        if not isinstance(source, str) or not source:
            return None
        if source.startswith("file://"):
            source = source[len("file://") :]
        elif "://" in source:
            return None
        base = self.file.parent if self.file is not None else Path()
        return base / source

    def resolve_ref(self, ref: str) -> str:
        """Resolve a reference made by this entry: without `:` it is in this entry's namespace."""
        return ref if ":" in ref else f"{self.namespace}:{ref}"

    @property
    def lifecycle(self) -> dict[str, Any]:
        """The `lifecycle:` block (§3.6), empty when absent or malformed."""
        block = self.data.get("lifecycle")
        return block if isinstance(block, dict) else {}

    @property
    def auto_start(self) -> bool:
        """Whether the supervisor starts this entry at boot (default false)."""
        return self.lifecycle.get("auto_start") is True

    @property
    def requires(self) -> list[str]:
        """Full ids this entry must start after: `requires` plus legacy `depends_on`.

        Both spellings are accepted (§2.3), inside `lifecycle:` or, for older files, at the
        entry's top level; duplicates are dropped and relative references resolved.
        """
        sources = (
            self.lifecycle.get("requires"),
            self.lifecycle.get("depends_on"),
            self.data.get("depends_on"),
        )
        out: list[str] = []
        for refs in sources:
            for ref in _as_str_list(refs):
                full = self.resolve_ref(ref)
                if full not in out:
                    out.append(full)
        return out

    def lookup(self, key: str) -> tuple[bool, Any]:
        """Return `(found, value)` for a `find` key: a field, `meta.a.b`, `data.a.b` or data key."""
        field = _FIELD_KEYS.get(key)
        if field is not None:
            return True, getattr(self, field)
        root, _, rest = key.partition(".")
        if root == "meta" and rest:
            return _dig(self.meta, rest.split("."))
        if root == "data" and rest:
            return _dig(self.data, rest.split("."))
        return _dig(self.data, key.split("."))


def _as_str_list(value: Any) -> list[str]:
    """A single reference or a list of them, as a list of strings (other items ignored)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _dig(mapping: Mapping[str, Any], path: list[str]) -> tuple[bool, Any]:
    """Follow a dotted path through nested mappings; `(False, None)` when any step is missing."""
    current: Any = mapping
    for part in path:
        if not isinstance(current, Mapping) or part not in current:
            return False, None
        current = current[part]
    return True, current


# --------------------------------------------------------------------------------------------
# Registry


class Registry:
    """Entries by full id. Iteration and queries are sorted by id so results are deterministic."""

    def __init__(self, entries: Collection[Entry] = ()) -> None:
        self._entries: dict[str, Entry] = {}
        self._order: list[str] | None = None  # sorted ids, rebuilt after a change
        for entry in entries:
            self.add(entry)

    def get(self, entry_id: str) -> Entry | None:
        return self._entries.get(entry_id)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def __iter__(self) -> Iterator[Entry]:
        if self._order is None:
            self._order = sorted(self._entries)
        return iter([self._entries[key] for key in self._order])

    def __len__(self) -> int:
        return len(self._entries)

    def by_kind(self, kind: str) -> list[Entry]:
        """Entries of a kind, a kind family or a glob.

        `process.lua` matches exactly; `temporal` (or `temporal.`) matches every `temporal.*`
        kind; a pattern with `*`, `?` or `[` is a glob (`*.lua`).
        """
        return [entry for entry in self if _kind_matches(entry.kind, kind)]

    def find(self, criteria: Mapping[str, Any]) -> list[Entry]:
        """Entries matching every `key: value` pair by equality.

        Keys: `id`, `kind`, `namespace`, `name` (or Wippy's `.id`, `.kind`, `.ns`, `.name`),
        `meta.a.b`, `data.a.b`, or a bare data field. A key the entry lacks never matches.
        """
        return [entry for entry in self if _matches(entry, criteria)]

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        """Register an entry; an existing id is an AlreadyExists error unless `replace`."""
        if not replace and entry.id in self._entries:
            raise error(ALREADY_EXISTS, f"entry already exists: {entry.id}")
        if entry.id not in self._entries:
            self._order = None
        self._entries[entry.id] = entry

    def remove(self, entry_id: str) -> Entry | None:
        """Drop an entry; returns it, or None when there was none."""
        self._order = None
        return self._entries.pop(entry_id, None)


def _kind_matches(kind: str, pattern: str) -> bool:
    if any(char in pattern for char in "*?["):
        return fnmatch.fnmatchcase(kind, pattern)
    if pattern.endswith("."):
        return kind.startswith(pattern)
    return kind == pattern or kind.startswith(pattern + ".")


def _matches(entry: Entry, criteria: Mapping[str, Any]) -> bool:
    for key, expected in criteria.items():
        found, value = entry.lookup(key)
        if not found or value != expected:
            return False
    return True


# --------------------------------------------------------------------------------------------
# Loading


@attrs.frozen
class LoadError:
    """A problem in one file or entry; loading carries on without it."""

    file: Path
    entry: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: entry {self.entry!r}" if self.entry else str(self.file)
        return f"{where}: {self.message}"


@attrs.define
class LoadedApp:
    """The outcome of `load_app`: the registry plus everything that went wrong on the way."""

    registry: Registry
    root: Path
    errors: list[LoadError] = attrs.field(factory=list)
    warnings: list[str] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _EntryProblem(Exception):
    """Internal: an entry cannot be loaded; becomes a LoadError naming that entry."""


def resolve_env(value: Any, env: Mapping[str, str] | None = None) -> Any:
    """Replace every `${env:NAME}` in strings inside `value` (recursing into lists and dicts).

    A missing variable raises an Invalid `ActorError` naming it: silently substituting an empty
    string would turn a missing secret into a confusing failure much later.
    """
    environ = os.environ if env is None else env
    if isinstance(value, str):
        return _ENV_REF.sub(lambda match: _env_value(match.group(1), environ), value)
    if isinstance(value, list):
        return [resolve_env(item, environ) for item in value]
    if isinstance(value, dict):
        return {key: resolve_env(item, environ) for key, item in value.items()}
    return value


def _env_value(name: str, environ: Mapping[str, str]) -> str:
    if name not in environ:
        raise invalid(f"environment variable {name} is not set (referenced as ${{env:{name}}})")
    return environ[name]


def load_app(
    path: str | os.PathLike[str],
    known_kinds: Collection[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedApp:
    """Load every definition file of an app folder into a fresh registry.

    `path` is a folder holding `wippy.lock` (its `directories.src` names the source folder) or
    the source folder itself. `env` replaces `os.environ` for `${env:...}` and `SKIP_TEST_DIRS`
    (handy in tests). Only a missing `path` raises; everything else is reported in the result.
    """
    environ = os.environ if env is None else env
    app_dir = Path(path)
    if not app_dir.is_dir():
        raise not_found(f"app folder not found: {app_dir}")
    loader = _Loader(environ, _skip_dirs(environ))
    root, extra_roots = loader.roots(app_dir)
    for scan_root in (root, *extra_roots):
        loader.scan(scan_root)
    app = LoadedApp(Registry(), root, loader.errors)
    for entry in loader.entries:
        app.registry.add(entry)
    if known_kinds is not None:
        _warn_unknown_kinds(app, known_kinds)
    logger.debug("loaded %d entries from %s (%d errors)", len(app.registry), root, len(app.errors))
    return app


def _skip_dirs(environ: Mapping[str, str]) -> frozenset[str]:
    names = (name.strip() for name in environ.get(SKIP_DIRS_ENV, "").split(","))
    return frozenset(name for name in names if name) | ALWAYS_SKIPPED


def _warn_unknown_kinds(app: LoadedApp, known_kinds: Collection[str]) -> None:
    """One summary line for all unknown kinds: a per-entry warning would drown real problems."""
    known = set(known_kinds)
    counts = Counter(entry.kind for entry in app.registry if entry.kind not in known)
    if not counts:
        return
    for entry in app.registry:
        if entry.kind not in known:
            logger.debug("entry %s has unknown kind %s; kept, not run", entry.id, entry.kind)
    listed = ", ".join(f"{kind} ({counts[kind]})" for kind in sorted(counts))
    app.warnings.append(f"entries of unknown kinds are kept but not run: {listed}")


class _Loader:
    """Walks the app folders and collects entries and errors, in sorted (deterministic) order."""

    def __init__(self, environ: Mapping[str, str], skip_dirs: frozenset[str]) -> None:
        self.environ = environ
        self.skip_dirs = skip_dirs
        self.entries: list[Entry] = []
        self.errors: list[LoadError] = []
        self._seen: dict[str, Path] = {}
        self._visited: set[Path] = set()

    # -- folders ------------------------------------------------------------------------------

    def roots(self, app_dir: Path) -> tuple[Path, list[Path]]:
        """The source folder, plus the modules folder when the lock file names an existing one.

        Without a lock file the folder is itself the source folder. A broken lock file is
        reported and the default `src` folder is used.
        """
        lock = app_dir / LOCK_FILE
        if not lock.is_file():
            return app_dir, []
        directories = self._lock_directories(lock)
        root = app_dir / str(directories.get("src") or DEFAULT_SRC_DIR)
        if not root.is_dir():
            self.errors.append(LoadError(lock, None, f"source folder not found: {root}"))
        extra: list[Path] = []
        modules = directories.get("modules")
        if modules and (app_dir / str(modules)).is_dir():
            extra.append(app_dir / str(modules))
        return root, extra

    def _lock_directories(self, lock: Path) -> dict[str, Any]:
        try:
            doc = yaml.safe_load(lock.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            self.errors.append(LoadError(lock, None, f"cannot read lock file: {exc}"))
            return {}
        directories = doc.get("directories") if isinstance(doc, dict) else None
        return directories if isinstance(directories, dict) else {}

    def scan(self, folder: Path) -> None:
        """Load every YAML file below `folder`, skipping hidden and excluded folders.

        Resolved folders are remembered so a symlink loop (or a modules folder inside the
        source folder) is scanned once.
        """
        real = folder.resolve()
        if real in self._visited or not folder.is_dir():
            return
        self._visited.add(real)
        for child in sorted(folder.iterdir()):
            if child.name.startswith(".") or child.name in self.skip_dirs:
                continue
            if child.is_dir():
                self.scan(child)
            elif child.suffix in YAML_SUFFIXES and child.is_file():
                self.load_file(child)

    # -- files --------------------------------------------------------------------------------

    def load_file(self, file: Path) -> None:
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            self.errors.append(LoadError(file, None, f"malformed YAML: {_one_line(exc)}"))
            return
        if not _is_definition(doc):
            logger.debug("ignoring %s: not a definition file", file)
            return
        namespace = doc["namespace"]
        if not isinstance(namespace, str) or not namespace or ":" in namespace:
            self.errors.append(LoadError(file, None, f"invalid namespace: {namespace!r}"))
            return
        for position, raw in self._raw_entries(file, doc):
            self.load_entry(file, namespace, position, raw)

    def _raw_entries(self, file: Path, doc: dict[str, Any]) -> list[tuple[int, Any]]:
        """The file's entries with their 1-based position; a single-entry file has one."""
        if "entries" not in doc:
            single = {key: value for key, value in doc.items() if key not in _FILE_KEYS}
            return [(1, single)]
        entries = doc["entries"]
        if entries is None:
            return []
        if not isinstance(entries, list):
            self.errors.append(LoadError(file, None, "'entries' must be a list"))
            return []
        return list(enumerate(entries, start=1))

    # -- entries ------------------------------------------------------------------------------

    def load_entry(self, file: Path, namespace: str, position: int, raw: Any) -> None:
        name = raw.get("name") if isinstance(raw, dict) else None
        label = name if isinstance(name, str) and name else None
        try:
            entry = self._build_entry(file, namespace, position, raw)
        except _EntryProblem as exc:
            self.errors.append(LoadError(file, label, str(exc)))
            return
        first = self._seen.get(entry.id)
        if first is not None:
            message = f"duplicate entry id {entry.id} (first defined in {first})"
            self.errors.append(LoadError(file, entry.name, message))
            return
        self._seen[entry.id] = file
        self.entries.append(entry)

    def _build_entry(self, file: Path, namespace: str, position: int, raw: Any) -> Entry:
        if not isinstance(raw, dict):
            raise _EntryProblem(f"entry #{position} is not a mapping")
        name, kind = raw.get("name"), raw.get("kind")
        if not isinstance(name, str) or not name:
            raise _EntryProblem(f"entry #{position} has no 'name'")
        if ":" in name:
            raise _EntryProblem(f"entry name must not contain ':': {name!r}")
        if not isinstance(kind, str) or not kind:
            raise _EntryProblem("missing 'kind'")
        meta = raw.get("meta") or {}
        if not isinstance(meta, dict):
            raise _EntryProblem("'meta' must be a mapping")
        data = {key: value for key, value in raw.items() if key not in _ENTRY_KEYS}
        try:
            meta, data = resolve_env(meta, self.environ), resolve_env(data, self.environ)
        except ActorError as exc:  # a missing environment variable
            raise _EntryProblem(str(exc)) from exc
        return Entry.create(namespace, name, kind, meta, data, file)


def _is_definition(doc: Any) -> bool:
    """The definition-file shape (§2.1): `namespace` plus `entries` or a single `name`+`kind`."""
    if not isinstance(doc, dict) or "namespace" not in doc:
        return False
    return "entries" in doc or ("name" in doc and "kind" in doc)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


# --------------------------------------------------------------------------------------------
# Launch-time overrides (§2.4)


def parse_override(text: str) -> tuple[str, str, Any]:
    """Split `ns:entry:path=value` into `(entry id, path, typed value)`.

    Command-line values are typed by shape: `true`/`false` → bool, numerals → int or float,
    anything else stays a string.
    """
    key, sep, raw_value = text.partition("=")
    if not sep:
        raise invalid(f"override must look like ns:entry:path=value: {text!r}")
    parts = key.strip().split(":")
    if len(parts) != 3 or not all(parts):
        raise invalid(f"override key must be namespace:entry:path: {key!r}")
    namespace, name, path = parts
    return f"{namespace}:{name}", path, typed_value(raw_value)


def typed_value(text: str) -> Any:
    """Type a command-line value by its shape (see `parse_override`)."""
    if text in ("true", "false"):
        return text == "true"
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def apply_overrides(registry: Registry, overrides: list[str]) -> None:
    """Apply `-o ns:entry:path=value` overrides, all or nothing.

    Every string is parsed and applied to a copy first, so one bad override leaves the registry
    untouched (Invalid `ActorError`).
    """
    apply_typed_overrides(registry, [parse_override(text) for text in overrides])


def apply_typed_overrides(registry: Registry, overrides: list[tuple[str, str, Any]]) -> None:
    """Apply `(entry id, path, value)` overrides whose values are already typed.

    This is the form of the config file's `override:` section, where values keep their YAML
    types; `apply_overrides` is the command-line form.
    """
    changed: dict[str, Entry] = {}
    for entry_id, path, value in overrides:
        entry = changed.get(entry_id) or registry.get(entry_id)
        if entry is None:
            raise invalid(f"override targets an unknown entry: {entry_id}")
        changed[entry_id] = override_entry(entry, path, value)
    for entry in changed.values():
        registry.add(entry, replace=True)


def override_entry(entry: Entry, path: str, value: Any) -> Entry:
    """A copy of `entry` with one field replaced: `kind`, `meta.<path>`, `data.<path>` or bare."""
    if path == "kind":
        if not isinstance(value, str) or not value:
            raise invalid(f"override of {entry.id}:kind needs a kind name, got {value!r}")
        return attrs.evolve(entry, kind=value)
    root, _, rest = path.partition(".")
    if root == "meta":
        meta = copy.deepcopy(entry.meta)
        _set_path(meta, rest, value, f"{entry.id}:{path}")
        return attrs.evolve(entry, meta=meta)
    data_path = rest if root == "data" else path
    if data_path.split(".")[0] in ("name", "namespace", "id"):
        raise invalid(f"override cannot change the entry id: {entry.id}:{path}")
    data = copy.deepcopy(entry.data)
    _set_path(data, data_path, value, f"{entry.id}:{path}")
    return attrs.evolve(entry, data=data)


def _set_path(target: dict[str, Any], path: str, value: Any, label: str) -> None:
    """Set `a.b.c` in nested dicts, creating missing levels; a non-mapping level is an error."""
    parts = path.split(".")
    if not path or not all(parts):
        raise invalid(f"override path is empty or malformed: {label}")
    for part in parts[:-1]:
        current = target.setdefault(part, {})
        if not isinstance(current, dict):
            raise invalid(f"override path crosses a non-mapping value at {part!r}: {label}")
        target = current
    target[parts[-1]] = value
