"""The data kinds plugin (`actors.kinds`): checks `db.sql.*`, `store.*`, `env.*` and
`fs.directory` entries at load time and ties the app's data resources to the node's life."""

from __future__ import annotations

from collections.abc import Iterable

from actors.errors import ActorError
from actors.kinds import KindPlugin
from actors.registry import Entry
from actors.runtime import AppRuntime
from data_modules import resources
from data_modules.resources import Resources

SQL_KINDS = resources.SQL_KINDS
STORE_KINDS = frozenset({"store.memory", "store.sql"})
ENV_KINDS = frozenset(
    {
        "env.storage.memory",
        "env.storage.os",
        "env.storage.file",
        "env.storage.router",
        "env.variable",
    }
)
FS_KINDS = frozenset({"fs.directory"})


def _check(entry: Entry) -> Iterable[str]:
    try:
        if entry.kind == "db.sql.sqlite":
            resources.sqlite_driver(entry)
            resources.pool_config(entry)
        elif entry.kind == "db.sql.postgres":
            resources.postgres_driver(entry, lambda _name: "x")
            resources.pool_config(entry)
        else:
            from data_modules import checks

            yield from checks.check(entry)
    except ActorError as exc:
        yield exc.error.message


async def _start(runtime: AppRuntime) -> None:
    runtime.node.start_soon(Resources.of(runtime.app.registry).serve)


ALL_KINDS: frozenset[str] = frozenset().union(SQL_KINDS, STORE_KINDS, ENV_KINDS, FS_KINDS)

KINDS = KindPlugin(kinds=ALL_KINDS, name="data", check=_check, start=_start)
