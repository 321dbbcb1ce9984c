"""Shared pytest configuration: async tests run on asyncio (the backend Temporal needs), and
one embedded Temporal dev server per test session for every test that needs one.

The server is a child process, so tests running on different event loops can share it; it is
started and stopped outside them (a sync fixture driving `anyio.run`).
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from temporal_host.embedded import EmbeddedServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def temporal_server() -> Iterator[EmbeddedServer]:
    server = EmbeddedServer()
    anyio.run(server.start)
    try:
        yield server
    finally:
        anyio.run(server.stop)
