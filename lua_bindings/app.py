"""An app as the Lua hosts see it: the registry plus type-erased, cached sources."""

from __future__ import annotations

import time
from pathlib import Path

import attrs

from actors import errors
from actors.errors import invalid, not_found
from actors.registry import Entry, Registry
from lua_bindings.typed_lua import erase_types

REVALIDATE = 1.0


@attrs.define
class _Source:
    mtime: float
    checked: float
    source: str
    chunkname: str


@attrs.define
class LuaApp:
    registry: Registry
    _sources: dict[Path, _Source] = attrs.field(factory=dict)

    def entry(self, ref: str, kinds: tuple[str, ...]) -> Entry:
        """The entry `ref` names, checked to be one of `kinds` (e.g. process.lua)."""
        if not isinstance(ref, str) or ":" not in ref or ref.startswith(":") or ref.endswith(":"):
            raise invalid(f"invalid entry id {ref!r}: expected namespace:name")
        entry = self.registry.get(ref)
        if entry is None:
            raise not_found(f"entry not found: {ref}")
        if entry.kind not in kinds:
            raise invalid(f"entry {ref} is a {entry.kind}, expected {' or '.join(kinds)}")
        if entry.kind.endswith(".bc"):
            raise errors.InvalidError("precompiled Lua entries are not supported")
        return entry

    def source(self, entry: Entry) -> tuple[str, str]:
        """(erased source, chunk name) of an entry; re-read when the file changes.

        The file is looked at again at most once per `REVALIDATE` seconds: spawning must not
        cost a `stat` per process, and an edit still shows up within a second.
        """
        path = entry.source_path()
        if path is None:
            raise invalid(f"entry {entry.id} has no source")
        now = time.monotonic()
        cached = self._sources.get(path)
        if cached is not None and now - cached.checked < REVALIDATE:
            return cached.source, cached.chunkname
        try:
            mtime = path.stat().st_mtime
        except OSError as exc:
            raise not_found(f"entry {entry.id}: cannot read {path}: {exc.strerror}") from exc
        if cached is None or cached.mtime != mtime:
            source = erase_types(path.read_text(encoding="utf-8"))
            cached = _Source(mtime, now, source, f"@{path.name}")
            self._sources[path] = cached
        else:
            cached.checked = now
        return cached.source, cached.chunkname
