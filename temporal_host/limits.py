"""Temporal's history limits, watched from both sides (issue 12 item 7, temporal.md §18).

The server terminates a workflow whose history passes about 51 200 events or 50 MB, and its
state is lost. Two guards keep that from happening unannounced:

- the workflow logs a warning, once per run, when its history passes the server's warning
  size (a fifth of the limit: 10 240 events, 10 MB) and again at nine tenths (`Warnings`);
- a local process sending to a workflow is refused (`RateLimited`, retryable, naming the
  limit) when the workflow's history is at nine tenths of a limit (`SendGuard`), so no
  sender pushes it over. The guard asks the server (`describe`) when the messages or bytes
  sent since its last look could have used half of the headroom, so rarely far from the
  limits and at every send close to them.

The cure is continue-as-new: the workflow calls `process.upgrade(nil, state)` when
`workflow.history_length()` / `history_size()` grow large, and starts over with an empty
history and the same PID.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs
from temporalio.client import Client

from actors import errors
from actors.errors import ActorError, Error

log = logging.getLogger(__name__)

FIRST_CHECK_MESSAGES = 64
"""Sends to a workflow before its history is first looked at."""
FIRST_CHECK_BYTES = 256 * 1024
EVENTS_PER_MESSAGE = 4
"""At worst a signal costs its own event and a workflow task's three."""


QUEUE_WARNING_MESSAGES = 10_000
QUEUE_WARNING_EVENTS = 1_000
"""§18: a workflow's mailbox drops nothing; a warning is logged each time the messages (or
events, child exits among them) waiting in it reach a multiple of these."""


@attrs.frozen
class HistoryLimits:
    """The server's history limits (Temporal's defaults unless the client entry says
    `history_limits: {events: N, bytes: N}`, for a server configured otherwise)."""

    events: int = 51_200
    bytes: int = 50 * 1024 * 1024

    def level(self, length: int, size: int) -> int:
        """0 below the warning size, 1 past a fifth of a limit, 2 past nine tenths."""
        fraction = max(length / self.events, size / self.bytes)
        return 2 if fraction >= 0.9 else 1 if fraction >= 0.2 else 0

    def describe(self, length: int, size: int) -> str:
        return (
            f"{length} of {self.events} events, {size} of {self.bytes} bytes: "
            "continue as new (process.upgrade) before Temporal terminates it"
        )


class Warnings:
    """The warnings of one run: each level logged once (the caller's logger is replay-safe)."""

    def __init__(self, limits: HistoryLimits) -> None:
        self.limits = limits
        self.logged = 0

    def check(self, logger: Any, workflow_id: str, length: int, size: int) -> None:
        level = self.limits.level(length, size)
        if level > self.logged:
            self.logged = level
            logger.warning(
                "workflow %s: history %s near Temporal's limit (%s)",
                workflow_id,
                "is" if level == 2 else "grows",
                self.limits.describe(length, size),
            )


@attrs.define
class _Budget:
    """Sends to one workflow that may still go out before its history is looked at again."""

    messages: int = FIRST_CHECK_MESSAGES
    bytes: int = FIRST_CHECK_BYTES


class SendGuard:
    """Refuses sends to a workflow whose history is at nine tenths of a limit.

    The history is looked at (`describe`) when the sends since the last look could have
    used half of the headroom it had then, so a workflow far from its limits costs one look
    per thousands of messages and one close to them a look per message.
    """

    def __init__(self, client: Client, limits: HistoryLimits) -> None:
        self.client = client
        self.limits = limits
        self._budgets: dict[str, _Budget] = {}

    async def check(self, workflow_id: str, size: int) -> None:
        budget = self._budgets.setdefault(workflow_id, _Budget())
        budget.messages -= 1
        budget.bytes -= size
        if budget.messages >= 0 and budget.bytes >= 0:
            return
        try:
            description = await self.client.get_workflow_handle(workflow_id).describe()
        except Exception:
            return  # the send itself reports a missing workflow or an unreachable server
        length = description.history_length
        history_size = description.raw_description.workflow_execution_info.history_size_bytes
        events_left = int(self.limits.events * 0.9) - length
        bytes_left = int(self.limits.bytes * 0.9) - history_size
        budget.messages = events_left // EVENTS_PER_MESSAGE // 2
        budget.bytes = bytes_left // 2
        if events_left <= 0 or bytes_left <= 0:
            raise ActorError(
                Error(
                    f"message not sent: the history of workflow {workflow_id} is near "
                    f"Temporal's limit ({self.limits.describe(length, history_size)})",
                    errors.RATE_LIMITED,
                    True,
                )
            )
