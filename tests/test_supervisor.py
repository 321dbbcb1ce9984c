"""Supervised services (lua-api §3.6): restart with backoff, and when not to restart."""

from __future__ import annotations

import textwrap
from pathlib import Path

import anyio
import pytest
import yaml

from actors.runtime import AppRuntime
from actors.supervisor import RestartPolicy, State

pytestmark = pytest.mark.anyio


def test_backoff_grows_and_is_capped() -> None:
    policy = RestartPolicy(initial_delay=1, max_delay=5, backoff_factor=2, jitter=0)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    jittered = RestartPolicy(initial_delay=1, jitter=0.1)
    assert jittered.delay(1, rand=lambda: 0.0) == pytest.approx(0.9)
    assert jittered.delay(1, rand=lambda: 1.0) == pytest.approx(1.1)


def write_service_app(root: Path, source: str, restart: dict, input_: list) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "svc.lua").write_text(textwrap.dedent(source))
    index = {
        "namespace": "svc",
        "entries": [
            {"name": "processes", "kind": "process.host"},
            {"name": "proc", "kind": "process.lua", "source": "file://svc.lua", "method": "main"},
            {
                "name": "service",
                "kind": "process.service",
                "process": "proc",
                "host": "processes",
                "input": input_,
                "lifecycle": {"auto_start": True, "restart": restart},
            },
        ],
    }
    (root / "_index.yaml").write_text(yaml.safe_dump(index))
    return root


async def run_until(runtime: AppRuntime, done, timeout: float = 10) -> None:
    with anyio.fail_after(timeout):
        while not done():
            await anyio.sleep(0.02)


async def test_failing_service_is_restarted_until_max_attempts(tmp_path: Path) -> None:
    # Each run registers a fresh name from the counter it was started with, then fails.
    app = write_service_app(
        tmp_path,
        """
        return {main = function() return nil, errors.new({message = "boom", kind = "Internal",
                                                         retryable = true}) end}
        """,
        {"initial_delay": "10ms", "max_delay": "20ms", "max_attempts": 3, "jitter": 0},
        [],
    )
    runtime = AppRuntime.load(app)
    async with runtime.node:
        await runtime.start()
        (service,) = runtime.services
        await run_until(runtime, lambda: service.state is State.EXITED)
        assert service.attempts == 4  # three restarts, then it gives up
        assert service.last_error is not None and service.last_error.message == "boom"


async def test_normal_return_is_not_restarted(tmp_path: Path) -> None:
    app = write_service_app(tmp_path, "return {main = function(x) return x end}", {}, [7])
    runtime = AppRuntime.load(app)
    async with runtime.node:
        await runtime.start()
        (service,) = runtime.services
        await run_until(runtime, lambda: service.state is State.EXITED)
        assert service.attempts == 0 and service.last_error is None


async def test_non_retryable_error_is_not_restarted(tmp_path: Path) -> None:
    app = write_service_app(
        tmp_path,
        """
        return {main = function() return nil, errors.new({message = "bad config",
                                                         kind = "Invalid", retryable = false}) end}
        """,
        {"initial_delay": "10ms"},
        [],
    )
    runtime = AppRuntime.load(app)
    async with runtime.node:
        await runtime.start()
        (service,) = runtime.services
        await run_until(runtime, lambda: service.state is State.EXITED)
        assert service.attempts == 0 and service.last_error.message == "bad config"
