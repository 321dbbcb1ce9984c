"""Shared fixtures of the Temporal tests: one embedded dev server per test session.

The server is a child process, so tests running on different event loops can share it; it is
started and stopped outside them (a sync fixture driving `anyio.run`).
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from temporal_host.embedded import EmbeddedServer


@pytest.fixture(scope="session")
def temporal_server() -> Iterator[EmbeddedServer]:
    server = EmbeddedServer()
    anyio.run(server.start)
    try:
        yield server
    finally:
        anyio.run(server.stop)
