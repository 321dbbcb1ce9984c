"""The `registry` module: read access to the app's entries (`actors.registry.Registry`).

- `registry.get(id)` → entry table, or `nil, err` (`NotFound` for an unknown id, `Invalid`
  for a non-string or malformed id). A relative id (no `:`) is resolved in the calling
  entry's namespace.
- `registry.find(criteria)` → array of entry tables (sorted by id, possibly empty), or
  `nil, err` (`Invalid` when `criteria` is not a table with string keys). Every
  `key = value` pair must match by equality; keys are `Registry.find`'s: `id`, `kind`,
  `namespace`, `name` (or Wippy's `.id`, `.kind`, `.ns`, `.name`), `meta.a.b`, `data.a.b`,
  or a bare data field. An empty table matches every entry.

An entry table is `{id, kind, namespace, name, meta, data}`: `meta` and `data` are fresh
copies (tables, empty when the entry has none), so app code may change them freely.
"""

from __future__ import annotations

from typing import Any

from actors.errors import InvalidError, NotFoundError
from actors.registry import Entry
from lua_bindings.contract import ModuleHost, nil_on_error
from lua_bindings.convert import from_lua, lua_type_name, text
from lua_bindings.modules import LuaModule


def entry_table(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "namespace": entry.namespace,
        "name": entry.name,
        "meta": entry.meta,
        "data": entry.data,
    }


def _functions(host: ModuleHost) -> dict[str, Any]:
    @nil_on_error
    def get(entry_id: Any = None, *_: Any) -> Any:
        if not isinstance(entry_id, bytes | str) or not entry_id:
            raise InvalidError(
                f"registry.get: id must be a non-empty string, got {lua_type_name(entry_id)}"
            )
        ref = text(entry_id)
        if ":" not in ref:
            current = host.running
            entry = current.entry if current is not None else None
            if entry is None:
                raise InvalidError(f"registry.get: invalid entry id {ref!r}")
            ref = entry.resolve_ref(ref)
        found = host.registry.get(ref)
        if found is None:
            raise NotFoundError(f"entry not found: {ref}")
        return host.lua(entry_table(found))

    @nil_on_error
    def find(criteria: Any = None, *_: Any) -> Any:
        if criteria is None:
            raise InvalidError("registry.find: criteria must be a table, got nil")
        wanted = from_lua(criteria)
        if wanted == []:
            wanted = {}
        if not isinstance(wanted, dict) or not all(isinstance(k, str) for k in wanted):
            raise InvalidError("registry.find: criteria must be a table with string keys")
        return host.lua([entry_table(e) for e in host.registry.find(wanted)])

    return {"get": get, "find": find}


MODULE = LuaModule("registry", _functions, lua=False)
