"""Routing: which endpoint (or static mount) answers a method and path on one server.

A route's full path is its router's prefix plus the endpoint's path. Literal paths are one
dict lookup; paths with `{param}` segments are tried in order of specificity (more literal
segments first, a trailing `{rest...}` last), so `/users/me` wins over `/users/{id}`.
Two endpoints with the same method on the same shape of path (parameter names aside) are a
conflict, reported at load time naming both entries.
"""

from __future__ import annotations

import re

import attrs

from http_host.config import AppConfig, EndpointConfig, RouterConfig, StaticConfig


@attrs.frozen
class Route:
    endpoint: EndpointConfig
    router: RouterConfig
    path: str


@attrs.frozen
class Match:
    """The outcome of a lookup: a route (and its params), else the methods the path allows."""

    route: Route | None = None
    params: dict[str, str] = attrs.field(factory=dict)
    allowed: tuple[str, ...] = ()
    router: RouterConfig | None = None


@attrs.define
class _Pattern:
    regex: re.Pattern[str]
    methods: dict[str, Route]
    rank: tuple[int, int]


def _shape(path: str) -> str:
    """The path with parameter names erased: two routes of one shape always collide."""
    return re.sub(r"\{[A-Za-z0-9_]+(\.\.\.)?\}", lambda m: "{...}" if m.group(1) else "{}", path)


def _compile(path: str) -> re.Pattern[str]:
    out = []
    for segment in path.split("/")[1:]:
        if segment.startswith("{") and segment.endswith("...}"):
            out.append(f"(?P<{segment[1:-4]}>.*)")
        elif segment.startswith("{"):
            out.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            out.append(re.escape(segment))
    return re.compile("^/" + "/".join(out) + "$")


class RouteTable:
    """The routes of one server."""

    def __init__(self) -> None:
        self._literal: dict[str, dict[str, Route]] = {}
        self._patterns: dict[str, _Pattern] = {}
        self._ordered: list[_Pattern] = []
        self.statics: list[StaticConfig] = []
        self.routers: list[RouterConfig] = []
        self.conflicts: list[tuple[str, str]] = []

    def add(self, endpoint: EndpointConfig, router: RouterConfig) -> None:
        path = (router.prefix + endpoint.path).rstrip("/") or "/"
        route = Route(endpoint, router, path)
        if "{" not in path:
            methods = self._literal.setdefault(path, {})
        else:
            shape = _shape(path)
            pattern = self._patterns.get(shape)
            if pattern is None:
                segments = path.split("/")[1:]
                literal = sum(1 for s in segments if not s.startswith("{"))
                rest = 1 if path.endswith("...}") else 0
                pattern = _Pattern(_compile(path), {}, (rest, -literal))
                self._patterns[shape] = pattern
                self._ordered.append(pattern)
                self._ordered.sort(key=lambda p: p.rank)
            methods = pattern.methods
        other = methods.get(endpoint.method)
        if other is not None:
            self.conflicts.append(
                (
                    endpoint.id,
                    f"route {endpoint.method} {path} is already served by {other.endpoint.id}",
                )
            )
            return
        methods[endpoint.method] = route

    def match(self, method: str, path: str) -> Match:
        path = path.rstrip("/") or "/"
        methods = self._literal.get(path)
        params: dict[str, str] = {}
        if methods is None:
            for pattern in self._ordered:
                found = pattern.regex.match(path)
                if found is not None:
                    methods, params = pattern.methods, found.groupdict()
                    break
        if methods is None:
            return Match(router=self.router_for(path))
        route = methods.get(method)
        if route is None and method == "HEAD":
            route = methods.get("GET")
        if route is None:
            any_route = next(iter(methods.values()))
            return Match(allowed=tuple(sorted(methods)), router=any_route.router)
        return Match(route, params, router=route.router)

    def router_for(self, path: str) -> RouterConfig | None:
        """The router whose prefix is the longest one `path` starts with (for middleware)."""
        best = None
        for router in self.routers:
            prefix = router.prefix
            if (not prefix or path == prefix or path.startswith(prefix + "/")) and (
                best is None or len(prefix) > len(best.prefix)
            ):
                best = router
        return best

    def static_for(self, path: str) -> StaticConfig | None:
        best = None
        for static in self.statics:
            mount = static.path
            if (mount == "/" or path == mount or path.startswith(mount + "/")) and (
                best is None or len(mount) > len(best.path)
            ):
                best = static
        return best


def build(config: AppConfig) -> tuple[dict[str, RouteTable], list[tuple[str, str]]]:
    """A route table per service id, plus conflicts as `(entry id, message)`."""
    tables = {service: RouteTable() for service in config.services}
    for router in config.routers.values():
        tables[router.server].routers.append(router)
    for endpoint in sorted(config.endpoints.values(), key=lambda e: e.id):
        router = config.routers[endpoint.router]
        tables[router.server].add(endpoint, router)
    mounts: dict[tuple[str, str], str] = {}
    conflicts: list[tuple[str, str]] = []
    for static in sorted(config.statics.values(), key=lambda s: s.id):
        other = mounts.get((static.server, static.path))
        if other is not None:
            conflicts.append((static.id, f"static path {static.path} is already served by {other}"))
            continue
        mounts[(static.server, static.path)] = static.id
        tables[static.server].statics.append(static)
    for table in tables.values():
        conflicts.extend(table.conflicts)
    return tables, conflicts
