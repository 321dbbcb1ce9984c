"""The embedded dev server's preferred ports (7233 and the Web UI's 8233 for an app's own
server): taken ones are replaced by free ones, also when they are taken between our look and
the server's bind, which is the race parallel runs hit."""

from __future__ import annotations

import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

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


async def test_a_bind_race_followed_by_a_long_panic_is_still_retried(tmp_path: Path) -> None:
    # The dev server that loses the race logs the bind error, then panics with a goroutine
    # dump longer than the tail we keep: the retry must not depend on the tail.
    first = tmp_path / "first-launch-done"
    cli = tmp_path / "temporal"
    cli.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            if [ ! -e {first} ]; then
              touch {first}
              echo 'msg="Failed to start gRPC listener" error="bind: address already in use"'
              i=0
              while [ $i -lt 200 ]; do echo "goroutine $i [running]:"; i=$((i+1)); done
              exit 2
            fi
            exec {embedded.find_temporal_cli()} "$@"
            """
        )
    )
    cli.chmod(0o755)
    async with EmbeddedServer(cli_path=str(cli)) as server:
        assert server.running
    assert first.exists()
