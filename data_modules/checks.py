"""Load-time checks of `store.*`, `env.*` and `fs.directory` entries: a missing or malformed
field is reported when the app loads, not at the first call."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from actors.errors import ActorError
from actors.registry import Entry
from data_modules import fsdir, resources


def check(entry: Entry) -> Iterable[str]:
    data = entry.data
    try:
        if entry.kind.startswith("store."):
            if data.get("cleanup_interval") is not None:
                resources.seconds(data["cleanup_interval"], "cleanup_interval")
            if entry.kind == "store.memory":
                resources._int(data.get("max_size"), "max_size")
            else:
                for field in ("database", "table_name"):
                    if not isinstance(data.get(field), str) or not data[field]:
                        yield f"missing {field}"
        elif entry.kind == "env.storage.file" and not data.get("file_path"):
            yield "missing file_path"
        elif entry.kind == "env.storage.router":
            if not isinstance(data.get("storages"), list) or not data["storages"]:
                yield "storages: expected a non-empty list of env.storage.* ids"
        elif entry.kind == "fs.directory":
            probe = dict(data, auto_init=False)
            fsdir.from_entry(entry.id, probe, Path("."))
    except ActorError as exc:
        yield exc.error.message
