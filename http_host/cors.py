"""The `cors` router middleware, with the reference's options and defaults.

Options (router `options:`), dotted names first, the older underscore names still read:
`cors.allow.origins` (`*`; a list, `*.example.com` for subdomains, `localhost` for any
port of localhost), `cors.allow.methods`, `cors.allow.headers`, `cors.expose.headers`,
`cors.allow.credentials` (`false`), `cors.max.age` (`86400`), `cors.allow.private.network`.

A preflight (`OPTIONS` with `Access-Control-Request-Method` and an allowed `Origin`) is
answered 204 here, before routing; other requests from an allowed origin get the CORS
headers added to whatever the handler answers. A disallowed origin gets no CORS headers.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

_OPTIONS = {
    "origins": ("cors.allow.origins", "allow_origins", "*"),
    "methods": ("cors.allow.methods", "allow_methods", "GET,POST,PUT,DELETE,OPTIONS,PATCH"),
    "headers": (
        "cors.allow.headers",
        "allow_headers",
        "Origin,Content-Type,Accept,Authorization,X-Requested-With",
    ),
    "expose": ("cors.expose.headers", "expose_headers", ""),
    "credentials": ("cors.allow.credentials", "allow_credentials", "false"),
    "max_age": ("cors.max.age", "max_age", "86400"),
    "private_network": ("cors.allow.private.network", "allow_private_network", "false"),
}

Headers = list[tuple[bytes, bytes]]


@attrs.frozen
class Cors:
    origins: tuple[str, ...]
    any_origin: bool
    methods: str
    headers: str
    expose: str
    credentials: bool
    max_age: str
    private_network: bool

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> Cors:
        value = {
            name: options.get(new) or options.get(old) or default
            for name, (new, old, default) in _OPTIONS.items()
        }
        origins = tuple(o.strip() for o in value["origins"].split(",") if o.strip())
        return cls(
            origins=origins,
            any_origin=value["origins"].strip() == "*",
            methods=value["methods"],
            headers=value["headers"],
            expose=value["expose"],
            credentials=value["credentials"] == "true",
            max_age=value["max_age"],
            private_network=value["private_network"] == "true",
        )

    def allows(self, origin: str) -> bool:
        if self.any_origin:
            return True
        for allowed in self.origins:
            if allowed in ("*", origin):
                return True
            suffix = allowed[1:]  # "*.example.com": a subdomain, not the domain itself
            if allowed.startswith("*.") and origin.endswith(suffix) and len(origin) > len(suffix):
                return True
            if allowed == "localhost" and (
                origin in ("http://localhost", "https://localhost")
                or origin.startswith(("http://localhost:", "https://localhost:"))
            ):
                return True
        return False

    def _common(self, origin: str) -> Headers:
        out = [(b"access-control-allow-origin", origin.encode())]
        if self.credentials:
            out.append((b"access-control-allow-credentials", b"true"))
        if self.private_network:
            out.append((b"access-control-allow-private-network", b"true"))
        return out

    def preflight(self, method: str, origin: str, request_method: str) -> Headers | None:
        """The headers of a 204 preflight answer, or None when this is no preflight we
        answer (the request then goes on to routing)."""
        if method != "OPTIONS" or not request_method or not origin or not self.allows(origin):
            return None
        out = self._common(origin)
        out.append((b"access-control-allow-methods", self.methods.encode()))
        if self.headers:
            out.append((b"access-control-allow-headers", self.headers.encode()))
        if self.max_age:
            out.append((b"access-control-max-age", self.max_age.encode()))
        out.append(
            (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        )
        return out

    def actual(self, origin: str) -> Headers:
        """Headers to add to a normal response (none for a missing or refused origin)."""
        if not origin or not self.allows(origin):
            return []
        out = self._common(origin)
        if self.expose:
            out.append((b"access-control-expose-headers", self.expose.encode()))
        out.append((b"vary", b"Origin"))
        return out
