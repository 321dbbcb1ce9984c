"""How a node joins a cluster: `--node NAME --cluster URL|embedded` and the timings."""

from __future__ import annotations

import os
import re
import ssl
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from actors.errors import invalid

EMBEDDED = "embedded"
NODE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
CREDENTIALS_ENV = "ACTORS_NATS_CREDS"
"""A NATS credentials file (JWT + NKey), for clusters that need one."""


def check_node_name(name: str) -> str:
    """Letters, digits, `_` and `-`: a NATS subject token and a PID node part."""
    if not isinstance(name, str) or not NODE_NAME.fullmatch(name):
        raise invalid(f"invalid node name {name!r}: use 1-64 letters, digits, '_' or '-'")
    return name


@attrs.frozen
class ClusterSettings:
    """A node's cluster settings. `url` is one or more `nats://` / `tls://` URLs (comma
    separated, credentials in the URL as NATS takes them)."""

    node: str = attrs.field(validator=lambda _, __, value: check_node_name(value))
    url: str
    heartbeat_interval: float = 0.5
    detection_time: float = 3.0
    """Silence after which a node is declared down (the default keeps it under 5 s)."""
    prefix: str = "actors"
    connect_timeout: float = 3.0
    request_timeout: float = 15.0
    store_dir: str | None = None
    """Where `url = "embedded"` keeps the nats-server's JetStream state (`.actors/nats`)."""

    def __attrs_post_init__(self) -> None:
        if not self.heartbeat_interval > 0 or self.detection_time <= self.heartbeat_interval:
            raise invalid("the detection time must be longer than the heartbeat interval")

    @property
    def embedded(self) -> bool:
        return self.url == EMBEDDED

    @property
    def servers(self) -> list[str]:
        return [part.strip() for part in self.url.split(",") if part.strip()]

    @property
    def safe_url(self) -> str:
        """The URL(s) without passwords, for messages and logs."""
        shown = []
        for server in self.servers:
            parts = urllib.parse.urlsplit(server)
            host = parts.hostname or ""
            netloc = f"{host}:{parts.port}" if parts.port else host
            shown.append(urllib.parse.urlunsplit(parts._replace(netloc=netloc)))
        return ",".join(shown)

    def connect_options(
        self,
        disconnected: Callable[[], Awaitable[None]],
        reconnected: Callable[[], Awaitable[None]],
    ) -> dict[str, Any]:
        options: dict[str, Any] = {
            "servers": self.servers,
            "name": f"actors-node-{self.node}",
            "connect_timeout": self.connect_timeout,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 0.25,
            "ping_interval": max(1, int(self.detection_time / 2)),
            "max_outstanding_pings": 2,
            "disconnected_cb": disconnected,
            "reconnected_cb": reconnected,
        }
        if any(server.startswith("tls://") for server in self.servers):
            options["tls"] = ssl.create_default_context()
        credentials = os.environ.get(CREDENTIALS_ENV)
        if credentials:
            options["user_credentials"] = credentials
        return options
