"""The Temporal kinds plugin: `temporal.client`, `temporal.worker` and `workflow.lua`.

At boot (`start`) it brings up, in this order: the embedded dev server when some client asks
for it, one connection per `temporal.client`, and one `WorkflowHost` per `temporal.worker`
(with its Temporal worker, when the worker side is installed and the entry auto-starts).
Problems are fatal and named: an app whose Temporal client cannot connect does not half-run.

Shutdown follows the node: each host stops its worker when the node stops its hosts, and the
embedded server, if any, stops last, when the node's task group ends.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path

import anyio
from temporalio.worker import Worker

from actors.errors import ActorError, invalid
from actors.kinds import KindPlugin
from actors.registry import LOCK_FILE, Entry, Registry
from actors.runtime import AppRuntime
from lua_bindings.plugin import lua_app
from temporal_host import sdk_logs
from temporal_host.client_interceptors import ContextInterceptor
from temporal_host.connection import EMBEDDED, ClientSettings, Connection, connect
from temporal_host.embedded import SEARCH_ATTRIBUTE_TYPES, EmbeddedServer
from temporal_host.host import WorkflowHost
from temporal_host.limits import SendGuard
from temporal_host.meta import TemporalMeta
from temporal_host.options import WorkerOptions
from temporal_host.preflight import SourceCheck
from temporal_host.protocol import DATA_CONVERTER
from temporal_host.search import SearchAttributes
from temporal_host.watchers import Watchers

log = logging.getLogger(__name__)

CLIENT_KIND = "temporal.client"
WORKER_KIND = "temporal.worker"
WORKFLOW_KINDS = frozenset({"workflow.lua"})

STATE_DIR = ".actors"
DB_FILE = "temporal.db"
DEFAULT_PORT = 7233
DEFAULT_UI_PORT = 8233
"""The ports the dev server prefers (`port_fallback`), so `--temporal-address localhost:7233`
and the Web UI bookmarks of the Temporal docs just work; when taken, free ports are used."""
SDK_SETTLE_SECONDS = 0.1


# -- load-time checks ----------------------------------------------------------------------------


def _check(entry: Entry) -> Iterable[str]:
    if entry.kind == CLIENT_KIND:
        try:
            ClientSettings.from_entry(entry)
            _search_attributes(entry)
        except ActorError as exc:
            yield exc.error.message.removeprefix(f"{entry.id}: ")
    elif entry.kind == WORKER_KIND:
        for field in ("client", "task_queue"):
            if not isinstance(entry.data.get(field), str) or not entry.data.get(field):
                yield f"missing {field}"
        try:
            WorkerOptions.parse(entry.data.get("worker_options"))
        except ActorError as exc:
            yield exc.error.message
    elif entry.kind in WORKFLOW_KINDS:
        if not entry.data.get("source"):
            yield "missing source (file://...)"
        try:
            TemporalMeta.of(entry)
        except ActorError as exc:
            yield exc.error.message.removeprefix(f"{entry.id}: ")


# -- boot ----------------------------------------------------------------------------------------


async def _start(runtime: AppRuntime) -> None:
    clients = runtime.app.registry.by_kind(CLIENT_KIND)
    if clients:
        sdk_logs.install()
    if not clients:
        for worker in runtime.app.registry.by_kind(WORKER_KIND):
            log.error("%s: the app has no temporal.client entry; worker not started", worker.id)
        return
    settings = [_settings(entry, runtime.settings.get("temporal_address")) for entry in clients]
    server = None
    if any(s.address == EMBEDDED for s in settings):
        search_attributes: dict[str, str] = {}
        for entry, client in zip(clients, settings, strict=True):
            if client.address == EMBEDDED:
                search_attributes.update(_search_attributes(entry))
        server = await _start_server(runtime, [s.namespace for s in settings], search_attributes)
    # Started before connecting: if a connection fails, the node ends and this stops the server.
    runtime.node.start_soon(_clean_up_when_node_ends, server)
    for client in settings:
        plain = client.address == EMBEDDED
        if plain:
            assert server is not None
            client = client.with_address(server.address)
        _add_hosts(runtime, await _connect(runtime, client, plain=plain))


def _settings(entry: Entry, address_override: str | None) -> ClientSettings:
    settings = ClientSettings.from_entry(entry)
    address = address_override or settings.address
    if not address:
        raise invalid(f"{entry.id}: missing address (HOST:PORT, or embedded)")
    return settings.with_address(address)


async def _connect(runtime: AppRuntime, settings: ClientSettings, *, plain: bool) -> Connection:
    client = await connect(
        settings,
        interceptors=[ContextInterceptor(settings.header_signing_key)],
        data_converter=DATA_CONVERTER,
        plain=plain,
    )
    log.info("%s: connected to Temporal at %s", settings.id, settings.address)
    search = SearchAttributes(client, register=plain)
    connection = Connection(
        settings,
        client,
        Watchers(runtime.node, client),
        search=search,
        guard=SendGuard(client, settings.history_limits),
    )
    declared = _search_attributes(runtime.app.registry.get(settings.id))
    if declared and not plain:
        # The embedded server registered them when it started; a real one may refuse.
        try:
            await search.add(declared)
        except ActorError as exc:
            log.warning("%s: %s", settings.id, exc.error.message)
    if settings.health_interval is not None:
        runtime.node.start_soon(connection.check_health)
    return connection


def _add_hosts(runtime: AppRuntime, connection: Connection) -> None:
    """One host per worker entry of this client; a routing-only host when there is none, so
    workflow PIDs of this client (handed over by other nodes, say) can still be reached."""
    workers = start_order(
        [
            entry
            for entry in runtime.app.registry.by_kind(WORKER_KIND)
            if entry.resolve_ref(str(entry.data.get("client", ""))) == connection.id
        ],
        runtime.app.registry,
    )
    settings = connection.settings
    for entry in workers:
        connection.workers_by_queue[settings.task_queue(entry.data["task_queue"])] = entry.id
    node = runtime.node
    if not workers:
        node.add_host(
            WorkflowHost(connection.id, connection, runtime.app.registry), node_route=connection.id
        )
        return
    check_source = SourceCheck(lua_app(runtime))
    for entry in workers:
        host = WorkflowHost(
            entry.id,
            connection,
            runtime.app.registry,
            task_queue=entry.data["task_queue"],
            worker=_worker(runtime, connection, entry),
            check_source=check_source,
        )
        node.add_host(host, node_route=connection.id)


def start_order(workers: list[Entry], registry: Registry) -> list[Entry]:
    """`workers` in the order their `lifecycle.requires` asks (each after the entries it
    requires; its client always comes first, as if listed). A requirement that names no
    entry, or a cycle, stops the app with a message naming the entries."""
    by_id = {entry.id: entry for entry in workers}
    order: list[Entry] = []
    visiting: list[str] = []

    def visit(entry: Entry) -> None:
        if entry in order:
            return
        if entry.id in visiting:
            cycle = " -> ".join([*visiting[visiting.index(entry.id) :], entry.id])
            raise invalid(f"{entry.id}: lifecycle.requires forms a cycle: {cycle}")
        visiting.append(entry.id)
        for ref in entry.requires:
            if registry.get(ref) is None:
                raise invalid(f"{entry.id}: lifecycle.requires names {ref}, which is no entry")
            if ref in by_id:
                visit(by_id[ref])
        visiting.pop()
        order.append(entry)

    for entry in workers:
        visit(entry)
    return order


def _worker(runtime: AppRuntime, connection: Connection, entry: Entry) -> Worker | None:
    """The Temporal worker polling the entry's queue, unless `lifecycle.auto_start: false`."""
    if entry.lifecycle.get("auto_start") is False:
        log.info("%s: auto_start is false; not polling its task queue", entry.id)
        return None
    # Imported here: it loads the workflow driver, which apps without workers never need.
    from temporal_host.worker import build_worker

    settings = connection.settings
    return build_worker(
        connection.client,
        runtime=runtime,
        client_id=connection.id,
        worker_id=entry.id,
        task_queue=settings.task_queue(entry.data["task_queue"]),
        worker_options=entry.data.get("worker_options") or {},
        tq_prefix=settings.tq_prefix,
        search=connection.search,
        history_limits=settings.history_limits,
        header_signing_key=settings.header_signing_key,
    )


# -- the embedded dev server -----------------------------------------------------------------------


def _search_attributes(entry: Entry | None) -> dict[str, str]:
    """A client's `search_attributes` (name → type; `embedded.search_attributes` is the
    older spelling): registered when the client starts, by the embedded dev server on its
    command line, on another server through the operator API when allowed (an operator may
    have to run `temporal operator search-attribute create` instead)."""
    if entry is None:
        return {}
    block = entry.data.get("embedded") or {}
    older = block.get("search_attributes") if isinstance(block, dict) else None
    values = entry.data.get("search_attributes", older)
    if values is None:
        return {}
    if not isinstance(values, dict) or not all(
        isinstance(name, str) and kind in SEARCH_ATTRIBUTE_TYPES for name, kind in values.items()
    ):
        raise invalid(
            f"{entry.id}: search_attributes: expected name: type, the types one of "
            + ", ".join(SEARCH_ATTRIBUTE_TYPES)
        )
    return dict(values)


async def _start_server(
    runtime: AppRuntime, namespaces: list[str], search_attributes: dict[str, str]
) -> EmbeddedServer:
    """The dev server: a SQLite file under `<app>/.actors/`, or memory for ephemeral runs."""
    ephemeral = bool(runtime.settings.get("ephemeral"))
    unique = list(dict.fromkeys(namespaces))
    server = EmbeddedServer(
        db_filename=None if ephemeral else _app_dir(runtime) / STATE_DIR / DB_FILE,
        namespace=unique[0],
        extra_namespaces=unique[1:],
        search_attributes=search_attributes,
        port=None if ephemeral else DEFAULT_PORT,
        ui=not ephemeral,
        ui_port=None if ephemeral else DEFAULT_UI_PORT,
        port_fallback=True,
    )
    await server.start()
    where = f", Web UI {server.ui_url}" if server.ui_url else ""
    print(f"temporal: embedded dev server at {server.address}{where}", file=sys.stderr)
    return server


def _app_dir(runtime: AppRuntime) -> Path:
    """The app folder: the source root, or its parent when a lock file names the source."""
    root = runtime.app.root
    return root.parent if (root.parent / LOCK_FILE).is_file() else root


async def _clean_up_when_node_ends(server: EmbeddedServer | None) -> None:
    """Runs in the node's task group. When the group ends (after every host stopped, so
    after the workers), stop the embedded server, then give the SDK's core a moment to
    finish the calls cancelled by the shutdown: an interpreter that exits while they still
    call back can crash in them (PyGILState_Release while finalizing)."""
    try:
        await anyio.sleep_forever()
    finally:
        with anyio.CancelScope(shield=True):
            if server is not None:
                await server.stop()
            await anyio.sleep(SDK_SETTLE_SECONDS)


def _default_host(entry: Entry, registry: Registry) -> str:
    """A workflow runs on the `temporal.worker` its `meta.temporal.workflow.worker` names."""
    worker = TemporalMeta.of(entry).workflow_worker
    if worker is None:
        raise invalid(f"{entry.id} names no meta.temporal.workflow.worker: name the worker")
    return worker


KINDS = KindPlugin(
    kinds={CLIENT_KIND, WORKER_KIND, *WORKFLOW_KINDS},
    name="temporal",
    check=_check,
    start=_start,
    order=10,
    runnable=WORKFLOW_KINDS,
    default_host=_default_host,
)
"""Registered under `[project.entry-points."actors.kinds"]`; starts after the Lua plugin."""
