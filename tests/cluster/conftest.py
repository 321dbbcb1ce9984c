"""One real `nats-server` (JetStream on) for the cluster tests, started and stopped here."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from actors.cluster import NatsServer


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    server = NatsServer()
    anyio.run(server.start)
    try:
        yield server
    finally:
        anyio.run(server.stop)
