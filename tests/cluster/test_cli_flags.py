"""`--node` / `--cluster` on the command line (issue 11, item 1): mistakes are one line and
exit code 2, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.cli import main
from actors.cluster.server import free_port

APP = str(Path(__file__).parents[2] / "examples" / "cluster")


def test_node_without_cluster_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", APP, "--node", "a"]) == 2
    assert "--node NAME needs --cluster" in capsys.readouterr().err


def test_a_bad_node_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", APP, "--node", "a.b", "--cluster", "nats://127.0.0.1:1"]) == 2
    assert "invalid node name 'a.b'" in capsys.readouterr().err


def test_nats_unreachable_at_start(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ACTORS_NODE", "a")
    monkeypatch.setenv("ACTORS_CLUSTER", url)
    assert main(["run", APP]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"actors run: cannot reach NATS at {url}: "), err
