"""Shared pytest configuration: async tests run on asyncio (the backend Temporal needs), and
one embedded Temporal dev server per test session for every test that needs one.

The server is a child process, so tests running on different event loops can share it; it is
started and stopped outside them (a sync fixture driving `anyio.run`).
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from actors.event_loop import uses_uvloop
from temporal_host.embedded import EmbeddedServer


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, bool]]:
    """asyncio on the loop the runtime runs on (uvloop, unless `ACTORS_UVLOOP=0`)."""
    return "asyncio", {"use_uvloop": uses_uvloop()}


@pytest.fixture(scope="session")
def temporal_server() -> Iterator[EmbeddedServer]:
    server = EmbeddedServer()
    anyio.run(server.start)
    try:
        yield server
    finally:
        anyio.run(server.stop)
