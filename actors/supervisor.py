"""Supervised services (lua-api §3.6): start a process, restart it with backoff on failure.

A service restarts only after an error exit that is not marked non-retryable; a normal
return ends it (`Exited`), and so does an explicit stop. The restart counter resets once a
run has lasted `stable_threshold`.
"""

from __future__ import annotations

import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import attrs

from actors.errors import Error
from actors.messages import Event
from actors.pid import PID

log = logging.getLogger(__name__)


class State(enum.Enum):
    UNKNOWN = "Unknown"
    STARTING = "Starting"
    RUNNING = "Running"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    EXITED = "Exited"


@attrs.frozen
class RestartPolicy:
    initial_delay: float = 1.0
    max_delay: float = 90.0
    backoff_factor: float = 2.0
    jitter: float = 0.1
    max_attempts: int = 0
    stable_threshold: float = 5.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """`initial * factor^(attempt-1)`, capped at `max_delay`, then jittered by ±jitter."""
        base = min(self.initial_delay * self.backoff_factor ** max(attempt - 1, 0), self.max_delay)
        return max(0.0, base * (1 + self.jitter * (2 * rand() - 1)))


Start = Callable[[], Awaitable[PID]]
WaitExit = Callable[[PID], Awaitable[Event]]


@attrs.define
class Service:
    """One supervised process. `start` spawns it; `wait_exit` awaits its EXIT event."""

    name: str
    start: Start
    wait_exit: WaitExit
    policy: RestartPolicy = attrs.field(factory=RestartPolicy)
    state: State = State.UNKNOWN
    pid: PID | None = None
    attempts: int = 0
    last_error: Error | None = None
    _stopping: bool = False

    async def run(self) -> None:
        """Run until the service exits for good or the surrounding scope is cancelled."""
        while not self._stopping:
            self.state = State.STARTING
            try:
                self.pid = await self.start()
            except Exception as exc:
                self.last_error = getattr(exc, "error", None) or Error(str(exc))
                log.error("service %s failed to start: %s", self.name, exc)
                if not await self._backoff():
                    return
                continue
            self.state = State.RUNNING
            started = time.monotonic()
            event = await self.wait_exit(self.pid)
            if time.monotonic() - started >= self.policy.stable_threshold:
                self.attempts = 0
            if self._stopping or event.error is None:
                self.state = State.EXITED if event.error is None else State.STOPPED
                log.info("service %s exited", self.name)
                return
            self.last_error = event.error
            log.warning("service %s failed: %s", self.name, event.error)
            if event.error.retryable is False or not await self._backoff():
                self.state = State.EXITED
                return

    async def _backoff(self) -> bool:
        self.state = State.FAILED
        self.attempts += 1
        if self.policy.max_attempts and self.attempts > self.policy.max_attempts:
            log.error("service %s gave up after %d attempts", self.name, self.attempts - 1)
            return False
        await anyio.sleep(self.policy.delay(self.attempts))
        return not self._stopping

    def stop(self) -> None:
        self._stopping = True
        self.state = State.STOPPING


def restart_policy(
    lifecycle: dict[str, Any], parse_duration: Callable[[Any], float]
) -> RestartPolicy:
    """Read `lifecycle.restart` and `stable_threshold`; durations go through `parse_duration`
    (seconds), so this module does not need to know Go duration syntax."""
    restart = lifecycle.get("restart") or {}
    defaults = RestartPolicy()

    def seconds(key: str, default: float, source: dict[str, Any]) -> float:
        return parse_duration(source[key]) if key in source else default

    return RestartPolicy(
        initial_delay=seconds("initial_delay", defaults.initial_delay, restart),
        max_delay=seconds("max_delay", defaults.max_delay, restart),
        backoff_factor=float(restart.get("backoff_factor", defaults.backoff_factor)),
        jitter=float(restart.get("jitter", defaults.jitter)),
        max_attempts=int(restart.get("max_attempts", defaults.max_attempts)),
        stable_threshold=seconds("stable_threshold", defaults.stable_threshold, lifecycle),
    )
