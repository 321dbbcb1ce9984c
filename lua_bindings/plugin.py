"""The Lua kinds plugin: creates Lua hosts and services for an app (see `actors.kinds`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from actors.errors import ActorError, invalid
from actors.host import SpawnRequest
from actors.kinds import KindPlugin
from actors.registry import Entry, Registry
from actors.runtime import AppRuntime
from actors.supervisor import Service, restart_policy
from corelib import gotime
from lua_bindings.app import LuaApp
from lua_bindings.host import FUNCS_HOST, FUNCTION_KINDS, PROCESS_KINDS, LuaHost

log = logging.getLogger(__name__)

CODE_KINDS = frozenset({*PROCESS_KINDS, *FUNCTION_KINDS, "library.lua", "module.lua"})
HOST_KINDS = frozenset({"process.host", "terminal.host", "process.service"})


def lua_app(runtime: AppRuntime) -> LuaApp:
    """The one LuaApp of a runtime, shared with other plugins (Temporal runs Lua too)."""
    app = runtime.extensions.get("lua_app")
    if app is None:
        app = runtime.extensions["lua_app"] = LuaApp(runtime.app.registry)
    return app


def _check(entry: Entry) -> Iterable[str]:
    if entry.kind in CODE_KINDS and not entry.data.get("source"):
        yield "missing source (file://...)"
    if entry.kind in ("process.host", "terminal.host"):
        try:
            _cpu_budget(entry, strict=True)
        except ActorError as exc:
            yield exc.error.message
    if entry.kind == "process.service":
        for field in ("process", "host"):
            if not entry.data.get(field):
                yield f"missing {field}"


def _seconds(value: Any) -> float:
    return gotime.parse_duration(value) / gotime.SECOND


def _cpu_budget(entry: Entry, strict: bool = False) -> float | None:
    """`host: {cpu_budget: "10s"}` (a duration; "0s" turns it off); None: the default,
    also for a bad value once `_check` has reported it (loading problems are not fatal)."""
    budget = (entry.data.get("host") or {}).get("cpu_budget")
    try:
        seconds = _seconds(budget) if budget is not None else None
        if seconds is not None and seconds < 0:
            raise invalid(f"cpu_budget cannot be negative: {budget!r}")
    except ActorError:
        if strict:
            raise
        return None
    return seconds


async def _start(runtime: AppRuntime) -> None:
    app = lua_app(runtime)
    node, registry = runtime.node, runtime.app.registry
    for entry in registry.by_kind("process.host"):
        options = entry.data.get("host") or {}
        node.add_host(
            LuaHost(
                entry.id,
                app,
                max_processes=options.get("max_processes"),
                cpu_budget=_cpu_budget(entry),
            )
        )
    for entry in registry.by_kind("terminal.host"):
        # It owns stdin/stdout: exactly one process at a time (lua-api §3.5).
        node.add_host(
            LuaHost(entry.id, app, terminal=True, max_processes=1, cpu_budget=_cpu_budget(entry))
        )
    node.add_host(LuaHost(FUNCS_HOST, app, kinds=FUNCTION_KINDS))
    runtime.services.extend(_services(runtime))


def _services(runtime: AppRuntime) -> list[Service]:
    registry = runtime.app.registry
    hosts = [e.id for e in registry.by_kind("process.host")]
    services = []
    for entry in registry.by_kind("process.service"):
        if entry.auto_start:
            services.append(
                _service(
                    runtime,
                    entry,
                    entry.resolve_ref(entry.data["process"]),
                    entry.resolve_ref(entry.data["host"]),
                    entry.data.get("input") or [],
                )
            )
    for entry in registry.by_kind("process.lua"):
        if not entry.auto_start:
            continue
        host = entry.meta.get("default_host") or (hosts[0] if len(hosts) == 1 else None)
        if host is None:
            log.error(
                "%s: auto_start needs meta.default_host or exactly one process.host", entry.id
            )
            continue
        services.append(_service(runtime, entry, entry.id, entry.resolve_ref(host), []))
    return services


def _service(
    runtime: AppRuntime, entry: Entry, process: str, host: str, args: list[Any]
) -> Service:
    node = runtime.node

    async def start() -> Any:
        return await node.spawn(host, SpawnRequest(target=process, args=tuple(args)))

    async def wait_exit(pid: Any) -> Any:
        return await node.wait_exit(pid)

    return Service(entry.id, start, wait_exit, restart_policy(entry.lifecycle, _seconds))


def _default_host(entry: Entry, registry: Registry) -> str:
    """Functions run on the node's funcs host; a process on its `meta.default_host`, else on
    the app's only `process.host`."""
    if entry.kind in FUNCTION_KINDS:
        return FUNCS_HOST
    host = entry.meta.get("default_host")
    if host:
        return entry.resolve_ref(str(host))
    hosts = [e.id for e in registry.by_kind("process.host")]
    if len(hosts) != 1:
        raise invalid(
            f"{entry.id} names no meta.default_host and the app has {len(hosts)} "
            "process.host entries: name the host"
        )
    return hosts[0]


def _terminal_host(entry: Entry, registry: Registry) -> str:
    """The app's only `terminal.host`: it owns stdin and stdout, so there is one."""
    terminals = [e.id for e in registry.by_kind("terminal.host")]
    if len(terminals) != 1:
        raise invalid(
            f"running {entry.id} needs exactly one terminal.host entry (found {len(terminals)})"
        )
    return terminals[0]


KINDS = KindPlugin(
    kinds=CODE_KINDS | HOST_KINDS,
    name="lua",
    check=_check,
    start=_start,
    runnable=frozenset({*PROCESS_KINDS, *FUNCTION_KINDS}),
    terminal=frozenset(PROCESS_KINDS),
    default_host=_default_host,
    terminal_host=_terminal_host,
)
