"""`temporal.client` entries: their settings, the connection, and what hosts share through it.

Every setting of temporal.md §1.1 is read here and either applied or rejected with a message
naming the entry and the field: a credential or TLS option the Python SDK cannot express must
stop the client from starting, never be dropped silently. `${env:...}` references were already
resolved by the loader.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import attrs
import temporalio.client
from temporalio.client import Client
from temporalio.service import KeepAliveConfig, TLSConfig

from actors import errors
from actors.errors import ActorError, error, invalid
from actors.registry import Entry
from corelib import gotime
from temporal_host.limits import HistoryLimits, SendGuard
from temporal_host.search import SearchAttributes
from temporal_host.watchers import Watchers

log = logging.getLogger(__name__)

EMBEDDED = "embedded"
"""The address that asks for the bundled dev server instead of a real one."""


@attrs.frozen
class ClientSettings:
    """A `temporal.client` entry, checked. `tls` is None (plain, or automatic with an API
    key), True (system roots) or a `TLSConfig`."""

    id: str
    address: str
    namespace: str = "default"
    tq_prefix: str = ""
    connection_timeout: float = 10.0
    keep_alive: KeepAliveConfig = attrs.field(
        factory=lambda: KeepAliveConfig(interval_millis=30_000, timeout_millis=10_000)
    )
    api_key: str | None = None
    tls: bool | TLSConfig | None = None
    health_interval: float | None = None
    history_limits: HistoryLimits = attrs.field(factory=HistoryLimits)

    @classmethod
    def from_entry(cls, entry: Entry) -> ClientSettings:
        data = entry.data
        try:
            return cls(
                id=entry.id,
                address=_string(data, "address", ""),
                namespace=_string(data, "namespace", "default") or "default",
                tq_prefix=_string(data, "tq_prefix", ""),
                connection_timeout=_seconds(data, "connection_timeout", 10.0),
                keep_alive=KeepAliveConfig(
                    interval_millis=int(_seconds(data, "keep_alive_time", 30.0) * 1000),
                    timeout_millis=int(_seconds(data, "keep_alive_timeout", 10.0) * 1000),
                ),
                api_key=_api_key(_block(data, "auth")),
                tls=_tls(_block(data, "tls"), _block(data, "auth")),
                health_interval=_health_interval(_block(data, "health_check")),
                history_limits=_history_limits(_block(data, "history_limits")),
            )
        except ActorError as exc:
            raise invalid(f"{entry.id}: {exc.error.message}") from None

    def with_address(self, address: str) -> ClientSettings:
        """The same client pointed elsewhere (`--temporal-address`, or the embedded server)."""
        if address == self.address:
            return self
        if address != EMBEDDED and not _is_host_port(address):
            raise invalid(f"{self.id}: address {address!r} is not HOST:PORT")
        return attrs.evolve(self, address=address)

    def task_queue(self, name: str) -> str:
        """`tq_prefix` + name, unless the name already carries the prefix (§17)."""
        if not self.tq_prefix or name.startswith(self.tq_prefix):
            return name
        return self.tq_prefix + name


async def connect(
    settings: ClientSettings,
    *,
    interceptors: Sequence[temporalio.client.Interceptor],
    data_converter: Any,
    plain: bool = False,
) -> Client:
    """Connect within `connection_timeout`; `plain` (the embedded server) skips TLS and auth."""
    try:
        with anyio.fail_after(settings.connection_timeout):
            return await Client.connect(
                settings.address,
                namespace=settings.namespace,
                api_key=None if plain else settings.api_key,
                tls=False if plain else settings.tls,
                keep_alive_config=settings.keep_alive,
                connect_timeout=timedelta(seconds=settings.connection_timeout),
                data_converter=data_converter,
                interceptors=interceptors,
            )
    except TimeoutError:
        reason = f"no answer within {settings.connection_timeout:g}s"
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else repr(exc)
    # Let the SDK's core finish with the failed connection: an interpreter that exits right
    # after a failed connect can crash in it (PyGILState_Release while finalizing).
    await anyio.sleep(0.05)
    raise _unreachable(settings, reason)


def _unreachable(settings: ClientSettings, reason: str) -> ActorError:
    return error(
        errors.UNAVAILABLE,
        f"{settings.id}: cannot connect to Temporal at {settings.address} "
        f"(namespace {settings.namespace}): {reason}",
        retryable=True,
    )


@attrs.define(eq=False)
class Connection:
    """A connected client and what every worker host of that client shares: the watchers of
    monitored and linked workflows, and which local worker serves which task queue (the host
    part of canonical PIDs, §2.2)."""

    settings: ClientSettings
    client: Client
    watchers: Watchers
    workers_by_queue: dict[str, str] = attrs.field(factory=dict)
    search: SearchAttributes | None = None
    """The namespace's search attributes (None: starts are not checked)."""
    guard: SendGuard | None = None
    """Refuses sends to workflows near their history limit (None: no check)."""

    @property
    def id(self) -> str:
        return self.settings.id

    async def check_health(self) -> None:
        """Log when the server stops (or starts again) answering health checks."""
        assert self.settings.health_interval is not None
        healthy = True
        while True:
            await anyio.sleep(self.settings.health_interval)
            try:
                ok = await self.client.service_client.check_health()
            except Exception as exc:
                ok, reason = False, str(exc)
            else:
                reason = "not serving"
            if ok != healthy:
                address = self.settings.address
                if ok:
                    log.warning("%s: Temporal at %s is healthy again", self.id, address)
                else:
                    log.warning("%s: Temporal at %s is unhealthy: %s", self.id, address, reason)
                healthy = ok


# -- field readers ----------------------------------------------------------------------------


def _block(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"{key} must be a mapping")
    return value


def _string(data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise invalid(f"{key} must be a string")
    return value


def _seconds(data: dict[str, Any], key: str, default: float) -> float:
    value = data.get(key)
    if value is None:
        return default
    try:
        seconds = gotime.parse_duration(value) / gotime.SECOND
    except Exception:
        raise invalid(f"{key}: invalid duration {value!r} (use Go syntax such as 10s)") from None
    if seconds <= 0:
        raise invalid(f"{key} must be positive")
    return seconds


def _is_host_port(address: str) -> bool:
    host, sep, port = address.rpartition(":")
    return bool(host and sep and port.isdigit())


def _exactly_one(block: dict[str, Any], keys: tuple[str, ...], what: str) -> str | None:
    present = [key for key in keys if block.get(key)]
    if len(present) > 1:
        raise invalid(f"auth: give only one {what} source ({', '.join(present)})")
    return present[0] if present else None


def _read_file(key: str, path: Any) -> bytes:
    try:
        return Path(str(path)).expanduser().read_bytes()
    except OSError as exc:
        raise invalid(f"{key}: cannot read {path}: {exc.strerror}") from None


def _auth_type(auth: dict[str, Any]) -> str:
    kind = str(auth.get("type") or "none").lower()
    if kind not in ("none", "api_key", "mtls"):
        raise invalid(f"auth.type must be none, api_key or mtls, not {kind!r}")
    return kind


def _api_key(auth: dict[str, Any]) -> str | None:
    if _auth_type(auth) != "api_key":
        return None
    source = _exactly_one(auth, ("api_key", "api_key_file", "api_key_env"), "API key")
    if source is None:
        raise invalid("auth.type api_key needs api_key, api_key_file or api_key_env")
    if source == "api_key_file":
        key = _read_file("auth.api_key_file", auth[source]).decode().strip()
    elif source == "api_key_env":
        log.warning("auth.api_key_env is deprecated; use api_key: ${env:NAME}")
        key = os.environ.get(str(auth[source]), "")
        if not key:
            raise invalid(f"auth.api_key_env: environment variable {auth[source]} is not set")
    else:
        key = str(auth[source])
    if not key:
        raise invalid("auth: the API key is empty")
    return key


def _client_certificate(auth: dict[str, Any]) -> tuple[bytes, bytes] | None:
    if _auth_type(auth) != "mtls":
        return None
    cert_source = _exactly_one(auth, ("cert_file", "cert_pem"), "certificate")
    key_source = _exactly_one(auth, ("key_file", "key_pem", "key_pem_env"), "key")
    if cert_source is None or key_source is None:
        raise invalid("auth.type mtls needs cert_file or cert_pem and key_file or key_pem")
    if cert_source == "cert_file":
        cert = _read_file("auth.cert_file", auth[cert_source])
    else:
        cert = str(auth[cert_source]).encode()
    if key_source == "key_file":
        key = _read_file("auth.key_file", auth[key_source])
    elif key_source == "key_pem_env":
        log.warning("auth.key_pem_env is deprecated; use key_pem: ${env:NAME}")
        key = os.environ.get(str(auth[key_source]), "").encode()
        if not key:
            raise invalid(f"auth.key_pem_env: environment variable {auth[key_source]} is not set")
    else:
        key = str(auth[key_source]).encode()
    return cert, key


def _tls(tls: dict[str, Any], auth: dict[str, Any]) -> bool | TLSConfig | None:
    certificate = _client_certificate(auth)
    enabled = tls.get("enabled")
    if tls.get("insecure_skip_verify"):
        if tls.get("server_name"):
            raise invalid("tls.insecure_skip_verify and tls.server_name are mutually exclusive")
        raise invalid(
            "tls.insecure_skip_verify is not supported by the Python Temporal SDK; "
            "give the server's CA with tls.ca_file instead"
        )
    if enabled is False:
        if certificate is not None:
            raise invalid("auth.type mtls needs TLS; remove tls.enabled: false")
        return False
    if not (enabled or certificate or tls.get("ca_file") or tls.get("server_name")):
        return None
    ca = _read_file("tls.ca_file", tls["ca_file"]) if tls.get("ca_file") else None
    server_name = tls.get("server_name") or None
    if certificate is None and ca is None and server_name is None:
        return True
    return TLSConfig(
        server_root_ca_cert=ca,
        domain=server_name,
        client_cert=certificate[0] if certificate else None,
        client_private_key=certificate[1] if certificate else None,
    )


def _health_interval(block: dict[str, Any]) -> float | None:
    if not block.get("enabled"):
        return None
    return _seconds(block, "interval", 30.0)


def _history_limits(block: dict[str, Any]) -> HistoryLimits:
    """`history_limits: {events, bytes}`: the server's limits when it is not configured with
    Temporal's defaults (temporal_host/limits.py)."""
    unknown = set(block) - {"events", "bytes"}
    if unknown:
        raise invalid(f"history_limits: unknown field {sorted(unknown)[0]}")
    values = {}
    for key in ("events", "bytes"):
        value = block.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise invalid(f"history_limits.{key} must be a positive integer")
        values[key] = value
    return HistoryLimits(**values)
