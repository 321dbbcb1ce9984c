"""Load-time errors, boot errors and graceful shutdown of HTTP services."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from actors.runtime import AppRuntime

APPS = Path(__file__).parent / "apps"
METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE"


def test_load_errors_name_the_entry() -> None:
    app = APPS / "bad"
    runtime = AppRuntime.load(app)
    found = {(e.entry, e.message) for e in runtime.errors}
    expected = {
        ("nowhere", "addr 'localhost' must be HOST:PORT or :PORT"),
        ("api", "middleware: unknown middleware 'gzip' (known: cors)"),
        ("orphan", "meta.server: http.service app:missing_server not found"),
        ("second", "route GET /v1/u/{name} is already served by app:first"),
        ("lost", "meta.router: http.router app:no_router not found"),
        ("nofunc", "func: function app:missing_fn not found"),
        ("notfunc", "func: app:proc is a process.lua, not function.lua"),
        (
            "badmethod",
            "method 'FETCH' is not one of DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE",
        ),
        ("badpath", "path 'v/{id}x' must start with '/'"),
        ("nodir", "missing directory"),
        ("secure", "tls is not supported: terminate TLS in a proxy in front of the service"),
        ("after", "post_middleware is not supported: list the middleware under middleware"),
    }
    assert found == expected
    assert all("bad/_index.yaml: entry" in str(e) for e in runtime.errors)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _actors(port: int, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HTTP_TEST_PORT": str(port)}
    return subprocess.Popen(
        [sys.executable, "-m", "actors.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_port_in_use_is_a_startup_error_naming_the_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        process = _actors(port, "run", str(APPS / "lifecycle"))
        _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert f"http.service app:server: cannot listen on 127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr


def _wait_serving(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            response = httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        assert response.status_code == 200, response.text
        return
    pytest.fail(f"{url} never answered")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_graceful_shutdown_finishes_requests_in_flight(stop_signal: signal.Signals) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = _actors(port, "run", str(APPS / "lifecycle"))
    try:
        _wait_serving(base + "/hello", process)
        result: dict[str, httpx.Response] = {}
        slow = threading.Thread(
            target=lambda: result.setdefault("slow", httpx.get(base + "/slow", timeout=30))
        )
        slow.start()
        time.sleep(0.5)  # the slow request is in its handler's 1.5 s sleep
        process.send_signal(stop_signal)
        time.sleep(0.5)
        with pytest.raises(httpx.ConnectError):  # no longer accepting
            httpx.get(base + "/hello", timeout=2)
        slow.join(30)
        assert result["slow"].status_code == 200
        assert result["slow"].json() == {"slow": True}
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
