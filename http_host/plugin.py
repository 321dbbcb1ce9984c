"""The HTTP kinds plugin: `http.service`, `http.router`, `http.endpoint`, `http.static`.

At load time it checks each entry's fields and then the app as a whole (missing servers,
routers and handler functions; routes that collide), each problem naming its entry. At boot
it binds every `http.service` with `lifecycle.auto_start: true` (an address in use fails the
boot, naming it), creates its handler host and serves it in the node's task group. It starts
after the other plugins, so the node stops it first: requests in flight finish while the
hosts they use still run.

`runtime.extensions["http_servers"]` maps service ids to running `HttpServer`s (their
`port` and `url` tell where a `:0` address ended up).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from actors.kinds import KindPlugin
from actors.registry import Registry
from actors.runtime import AppRuntime
from http_host import config, routing
from http_host.server import HttpHost, HttpServer
from lua_bindings.plugin import lua_app


def _check_app(registry: Registry) -> Iterable[tuple[str, str]]:
    app, problems = config.load(registry)
    yield from problems
    yield from routing.build(app)[1]


async def _start(runtime: AppRuntime) -> None:
    if runtime.settings.get("command_mode"):
        return  # `actors run ENTRY` / `actors exec`: one process, no servers
    app, _ = config.load(runtime.app.registry)
    tables, _ = routing.build(app)
    servers: dict[str, HttpServer] = runtime.extensions.setdefault("http_servers", {})
    for service in app.services.values():
        if not service.auto_start:
            continue
        host = HttpHost(service.id, lua_app(runtime))
        server = HttpServer(service, tables[service.id], host)
        server.listen()
        runtime.node.add_host(host)
        servers[service.id] = server
        runtime.node.start_soon(server.serve)
        print(f"http: {service.id} listening on {server.url}", file=sys.stderr)


KINDS = KindPlugin(
    kinds=config.KINDS,
    name="http",
    check=config.problems,
    check_app=_check_app,
    start=_start,
    order=20,
)
