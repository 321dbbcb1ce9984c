"""examples/cluster as separate OS processes (issue 11, item 6).

A real nats-server and the session's Temporal dev server; node `a` serves the counter and
runs the workflow worker, node `b` runs the client (which also starts the workflow), then a
third node watches the counter while `a` is SIGKILLed: the watcher's EXIT must name node `a`
within the detection time.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import anyio
import pytest

from actors.cluster import NatsServer
from temporal_host.embedded import EmbeddedServer

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parents[2]
APP = ROOT / "examples" / "cluster"


def node_command(name: str, nats: NatsServer, temporal: EmbeddedServer, prefix: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "actors.cli",
        "run",
        str(APP),
        "--node",
        name,
        "--cluster",
        nats.url,
        "--temporal-address",
        temporal.address,
        "-o",
        f"cluster:temporal:tq_prefix={prefix}",
    ]


def test_counter_on_a_clients_on_b_workflow_between_and_a_killed(
    temporal_server: EmbeddedServer,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    nats = NatsServer()
    anyio.run(nats.start)
    service = None
    try:
        service = subprocess.Popen(
            node_command("a", nats, temporal_server, prefix),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        client_only = ["-o", "cluster:workflows:lifecycle.auto_start=false"]
        client_only += ["-o", "cluster:counter:lifecycle.auto_start=false"]
        client = subprocess.run(
            [*node_command("b", nats, temporal_server, prefix), *client_only, "client"],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert client.returncode == 0, client.stdout + client.stderr
        lines = client.stdout.splitlines()
        assert lines[0].startswith("counter is {a@cluster:processes|0x00001.")
        assert "I am {b@cluster:terminal|0x00001." in lines[0]
        assert lines[1:4] == ["added 1, total 1", "added 2, total 3", "added 3, total 6"]
        assert lines[4] == "the workflow added 10: total 16"

        watcher = subprocess.Popen(
            [*node_command("c", nats, temporal_server, prefix), *client_only, "watch"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert watcher.stdout is not None
        first = watcher.stdout.readline()
        assert first.startswith("watching {a@cluster:processes|"), first + watcher.stderr.read()
        killed_at = time.monotonic()
        service.send_signal(signal.SIGKILL)
        out, err = watcher.communicate(timeout=30)
        detected = time.monotonic() - killed_at
        assert watcher.returncode == 0, out + err
        assert "pid.exit from {a@cluster:processes|" in out
        assert "[Unavailable] node a is down" in out
        assert detected < 5.0, detected
    finally:
        if service is not None and service.poll() is None:
            service.kill()
        if service is not None:
            service.wait()
        anyio.run(nats.stop)
