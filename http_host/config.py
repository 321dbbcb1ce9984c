"""The YAML of the four HTTP entry kinds, parsed once into typed, validated configs.

`http.service` is a listening server, `http.router` a group of endpoints under a prefix on
one server (with its middleware), `http.endpoint` one method + path answered by a
`function.lua` handler, `http.static` a folder served under a path. Field names follow the
reference (`kinds/http.go`): the server of a router and of a static mount is `meta.server`,
the router of an endpoint `meta.router`.

Each `parse_*` raises `ConfigError` naming the field; `problems(entry)` turns that into the
load-time problem list of the kind plugin, and `app_problems(registry)` adds what needs the
whole app: references to missing entries and routing conflicts (routing.py).

Our additions to the reference fields, all optional (docs/reference/kinds/http.md):
`http.service.max_body` (bytes; larger request bodies get 413), `http.endpoint.timeout`
(a Go duration; a handler still running then gets 504), `lifecycle.stop_timeout` (how long
a graceful shutdown waits for requests in flight).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from actors.errors import ActorError
from actors.registry import Entry, Registry
from corelib import gotime

SERVICE = "http.service"
ROUTER = "http.router"
ENDPOINT = "http.endpoint"
STATIC = "http.static"
KINDS = frozenset({SERVICE, ROUTER, ENDPOINT, STATIC})

METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"})
MIDDLEWARE = frozenset({"cors"})
"""Router middleware this runtime implements; any other name is a load-time error."""

DEFAULT_MAX_BODY = 120 * 1024 * 1024
"""Bytes, as the reference's `max_body` default (120 MB)."""
DEFAULT_HANDLER_TIMEOUT = 60.0
DEFAULT_STOP_TIMEOUT = 10.0
DEFAULT_IDLE_TIMEOUT = 60.0

_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}$")


class ConfigError(Exception):
    """One thing wrong with an entry's fields (the message names the field)."""


def _seconds(value: Any, field: str) -> float:
    try:
        seconds = gotime.parse_duration(value) / gotime.SECOND
    except ActorError as exc:
        raise ConfigError(f"{field}: {exc.error.message}") from None
    if seconds < 0:
        raise ConfigError(f"{field} cannot be negative")
    return seconds


def _optional_seconds(block: Mapping[str, Any], key: str, field: str, default: float) -> float:
    value = block.get(key)
    if value is None or value == "":
        return default
    return _seconds(value, field)


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{field} must be a mapping")
    return value


def _string(entry: Entry, key: str, *, where: Mapping[str, Any] | None = None) -> str:
    source = entry.data if where is None else where
    value = source.get(key)
    field = key if where is None else f"meta.{key}"
    if not isinstance(value, str) or not value:
        raise ConfigError(f"missing {field}")
    return value


def parse_addr(addr: Any) -> tuple[str, int]:
    """`":8085"` (all interfaces), `"127.0.0.1:0"` (a free port), `"[::1]:80"`."""
    if not isinstance(addr, str) or not addr:
        raise ConfigError("missing addr (such as ':8085' or '127.0.0.1:0')")
    host, colon, port = addr.rpartition(":")
    if not colon or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"addr {addr!r} must be HOST:PORT or :PORT")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


@attrs.frozen
class ServiceConfig:
    id: str
    host: str
    port: int
    max_body: int = DEFAULT_MAX_BODY
    read_timeout: float = 0.0
    """Seconds to receive a request body (0: no limit)."""
    write_timeout: float = 0.0
    """Default handler timeout of the service's endpoints (0: DEFAULT_HANDLER_TIMEOUT)."""
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    auto_start: bool = False

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"


def _unsupported(entry: Entry, field: str, advice: str) -> None:
    """A reference field this runtime does not implement: an error, never silently ignored."""
    if entry.data.get(field):
        raise ConfigError(f"{field} is not supported: {advice}")


def parse_service(entry: Entry) -> ServiceConfig:
    _unsupported(entry, "tls", "terminate TLS in a proxy in front of the service")
    host, port = parse_addr(entry.data.get("addr"))
    timeouts = _mapping(entry.data.get("timeouts"), "timeouts")
    lifecycle = _mapping(entry.data.get("lifecycle"), "lifecycle")
    max_body = entry.data.get("max_body", DEFAULT_MAX_BODY)
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body <= 0:
        raise ConfigError("max_body must be a positive number of bytes")
    return ServiceConfig(
        id=entry.id,
        host=host,
        port=port,
        max_body=max_body,
        read_timeout=_optional_seconds(timeouts, "read", "timeouts.read", 0.0),
        write_timeout=_optional_seconds(timeouts, "write", "timeouts.write", 0.0),
        idle_timeout=_optional_seconds(timeouts, "idle", "timeouts.idle", DEFAULT_IDLE_TIMEOUT),
        stop_timeout=_optional_seconds(
            lifecycle, "stop_timeout", "lifecycle.stop_timeout", DEFAULT_STOP_TIMEOUT
        ),
        auto_start=entry.auto_start,
    )


def _options(value: Any, field: str) -> dict[str, str]:
    """Middleware options: a flat mapping; scalar values are kept as text ("true", "600")."""
    options = _mapping(value, field)
    out = {}
    for key, item in options.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, list):
            item = ",".join(str(v) for v in item)
        out[str(key)] = str(item)
    return out


def _middleware(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{field} must be a list of names")
    for name in value:
        if name not in MIDDLEWARE:
            known = ", ".join(sorted(MIDDLEWARE))
            raise ConfigError(f"{field}: unknown middleware {name!r} (known: {known})")
    return tuple(value)


def _prefix(value: Any) -> str:
    if value is None or value == "" or value == "/":
        return ""
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigError("prefix must start with '/'")
    return value.rstrip("/")


@attrs.frozen
class RouterConfig:
    id: str
    server: str
    prefix: str = ""
    middleware: tuple[str, ...] = ()
    options: dict[str, str] = attrs.field(factory=dict)


def parse_router(entry: Entry) -> RouterConfig:
    _unsupported(entry, "post_middleware", "list the middleware under middleware")
    return RouterConfig(
        id=entry.id,
        server=entry.resolve_ref(_string(entry, "server", where=entry.meta)),
        prefix=_prefix(entry.data.get("prefix")),
        middleware=_middleware(entry.data.get("middleware"), "middleware"),
        options=_options(entry.data.get("options"), "options"),
    )


def check_path(path: Any) -> str:
    """A route path: starts with '/', each `{name}` a whole segment, `{name...}` only last."""
    if not isinstance(path, str) or not path:
        raise ConfigError("missing path")
    if not path.startswith("/"):
        raise ConfigError(f"path {path!r} must start with '/'")
    segments = path.split("/")[1:]
    names = set()
    for i, segment in enumerate(segments):
        if "{" not in segment and "}" not in segment:
            continue
        match = _PARAM.match(segment)
        if match is None:
            raise ConfigError(f"path {path!r}: a parameter must be a whole segment like {{id}}")
        if match.group(2) and i != len(segments) - 1:
            raise ConfigError(f"path {path!r}: {{{match.group(1)}...}} must be the last segment")
        if match.group(1) in names:
            raise ConfigError(f"path {path!r}: parameter {{{match.group(1)}}} appears twice")
        names.add(match.group(1))
    return path


@attrs.frozen
class EndpointConfig:
    id: str
    router: str
    method: str
    path: str
    func: str
    timeout: float | None = None
    """Seconds; None: the service's `timeouts.write`, else DEFAULT_HANDLER_TIMEOUT."""


def parse_endpoint(entry: Entry) -> EndpointConfig:
    method = entry.data.get("method")
    if not isinstance(method, str) or not method:
        raise ConfigError("missing method")
    if method.upper() not in METHODS:
        raise ConfigError(f"method {method!r} is not one of {', '.join(sorted(METHODS))}")
    timeout = entry.data.get("timeout")
    return EndpointConfig(
        id=entry.id,
        router=entry.resolve_ref(_string(entry, "router", where=entry.meta)),
        method=method.upper(),
        path=check_path(entry.data.get("path")),
        func=entry.resolve_ref(_string(entry, "func")),
        timeout=None if timeout is None else _seconds(timeout, "timeout") or None,
    )


@attrs.frozen
class StaticConfig:
    id: str
    server: str
    path: str
    directory: Path
    index: str = "index.html"
    spa: bool = False
    cache: str = ""
    router: str | None = None
    """A router whose middleware (cors) also applies to the files."""


def parse_static(entry: Entry) -> StaticConfig:
    path = check_path(entry.data.get("path"))
    if "{" in path:
        raise ConfigError(f"path {path!r}: a static mount cannot have parameters")
    if entry.data.get("fs"):
        raise ConfigError("fs: filesystem entries are not supported here; use directory")
    directory = entry.data.get("directory")
    if not isinstance(directory, str) or not directory:
        raise ConfigError("missing directory")
    base = entry.file.parent if entry.file is not None else Path()
    static = _mapping(entry.data.get("static_options"), "static_options")
    legacy = _mapping(entry.data.get("options"), "options")  # the reference's old spelling
    router = entry.meta.get("router")
    return StaticConfig(
        id=entry.id,
        server=entry.resolve_ref(_string(entry, "server", where=entry.meta)),
        path=path.rstrip("/") or "/",
        directory=(base / directory).resolve(),
        index=str(static.get("index") or legacy.get("index") or "index.html"),
        spa=bool(static.get("spa", legacy.get("spa") in (True, "true"))),
        cache=str(static.get("cache") or legacy.get("cache") or ""),
        router=entry.resolve_ref(router) if isinstance(router, str) and router else None,
    )


PARSERS = {
    SERVICE: parse_service,
    ROUTER: parse_router,
    ENDPOINT: parse_endpoint,
    STATIC: parse_static,
}


def problems(entry: Entry) -> Iterable[str]:
    """Problems with one entry's own fields (the kind plugin's load-time check)."""
    try:
        PARSERS[entry.kind](entry)
    except ConfigError as exc:
        yield str(exc)


@attrs.frozen
class AppConfig:
    """Every valid HTTP entry of an app, by id."""

    services: dict[str, ServiceConfig]
    routers: dict[str, RouterConfig]
    endpoints: dict[str, EndpointConfig]
    statics: dict[str, StaticConfig]


def _parsed(registry: Registry, kind: str) -> dict[str, Any]:
    out = {}
    for entry in registry.by_kind(kind):
        with contextlib.suppress(ConfigError):  # reported by `problems`
            out[entry.id] = PARSERS[kind](entry)
    return out


def load(registry: Registry) -> tuple[AppConfig, list[tuple[str, str]]]:
    """The app's HTTP configuration plus cross-entry problems as `(entry id, message)`.

    Entries with a missing reference are left out (the rest of the app still serves)."""
    services = _parsed(registry, SERVICE)
    routers = _parsed(registry, ROUTER)
    endpoints = _parsed(registry, ENDPOINT)
    statics = _parsed(registry, STATIC)
    found: list[tuple[str, str]] = []

    def missing(entry_id: str, field: str, ref: str, kind: str, valid: Mapping[str, Any]) -> bool:
        if ref in valid:
            return False
        other = registry.get(ref)
        if other is None:
            found.append((entry_id, f"{field}: {kind} {ref} not found"))
        elif other.kind != kind:
            found.append((entry_id, f"{field}: {ref} is a {other.kind}, not a {kind}"))
        else:
            found.append((entry_id, f"{field}: {kind} {ref} is itself invalid"))
        return True

    for router in list(routers.values()):
        if missing(router.id, "meta.server", router.server, SERVICE, services):
            del routers[router.id]
    for endpoint in list(endpoints.values()):
        bad = missing(endpoint.id, "meta.router", endpoint.router, ROUTER, routers)
        func = registry.get(endpoint.func)
        if func is None:
            found.append((endpoint.id, f"func: function {endpoint.func} not found"))
            bad = True
        elif func.kind != "function.lua":
            found.append((endpoint.id, f"func: {endpoint.func} is a {func.kind}, not function.lua"))
            bad = True
        if bad:
            del endpoints[endpoint.id]
    for static in list(statics.values()):
        bad = missing(static.id, "meta.server", static.server, SERVICE, services)
        if static.router is not None:
            bad = missing(static.id, "meta.router", static.router, ROUTER, routers) or bad
        if bad:
            del statics[static.id]
    return AppConfig(services, routers, endpoints, statics), found
