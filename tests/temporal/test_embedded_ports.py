"""The embedded dev server's preferred ports (7233 and the Web UI's 8233 for an app's own
server): taken ones are replaced by free ones, also when they are taken between our look and
the server's bind, which is the race parallel runs hit."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from temporal_host import embedded
from temporal_host.embedded import EmbeddedServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port some other program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


async def test_a_taken_preferred_port_is_replaced_by_a_free_one(taken_port: int) -> None:
    async with EmbeddedServer(port=taken_port, port_fallback=True) as server:
        assert server.running
        assert not server.address.endswith(f":{taken_port}")


async def test_a_preferred_port_taken_at_the_bind_is_replaced_on_the_retry(
    taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race: our look says free, the server's bind finds it taken.
    monkeypatch.setattr(embedded, "_is_free", lambda host, port: True)
    async with EmbeddedServer(port=taken_port, port_fallback=True) as server:
        assert server.running
        assert not server.address.endswith(f":{taken_port}")


async def test_a_required_port_that_is_taken_is_an_error(taken_port: int) -> None:
    with pytest.raises(embedded.EmbeddedServerError, match="address already in use"):
        async with EmbeddedServer(port=taken_port, startup_timeout=15):
            pass
