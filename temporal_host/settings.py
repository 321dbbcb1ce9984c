"""`WorkerSettings`: what the workflow driver, the activities and the interceptors of one
worker need to know. Its own module, so they all import it without importing the worker."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import attrs
from temporalio.client import Client
from temporalio.common import RetryPolicy

from actors.registry import Entry
from actors.runtime import AppRuntime
from temporal_host.limits import HistoryLimits
from temporal_host.options import (
    DEFAULT_ACTIVITY_RETRY,
    DEFAULT_HEARTBEAT_TIMEOUT,
    WorkerOptions,
)
from temporal_host.search import SearchAttributes
from temporal_host.states import StatePool


@attrs.frozen
class WorkerSettings:
    runtime: AppRuntime
    client: Client | None
    """None in a `Replayer`: replays never run activities."""
    client_id: str
    worker_id: str
    task_queue: str
    tq_prefix: str = ""
    activity_retry: RetryPolicy = DEFAULT_ACTIVITY_RETRY
    """The default activity retry policy (§9.4)."""
    log_in_replay: bool = False
    activity_heartbeat: timedelta = DEFAULT_HEARTBEAT_TIMEOUT
    """The default heartbeat timeout of activities (0: none)."""
    history_limits: HistoryLimits = attrs.field(factory=HistoryLimits)
    """The server's history limits: the run warns as its history nears them."""
    header_signing_key: str | None = None
    """Verifies and signs the `wippy-security` header (§16)."""
    search: SearchAttributes | None = None
    """Checks (and on the embedded server registers) search attributes; None in replays."""
    states: StatePool[Any] = attrs.field(factory=StatePool, eq=False, repr=False)
    """Idle workflow Lua hosts by entry, reused by the next run (driver.py)."""
    activity_plans: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    """(entry, `ActivityPlan`) of activity calls without options of their own, by target
    (`Commands._activity_plan`)."""
    workflow_entries: dict[str, Entry] = attrs.field(factory=dict, eq=False, repr=False)
    """The entry each workflow type named by its entry ID resolved to (`resolve_entry`)."""

    @classmethod
    def create(
        cls,
        runtime: AppRuntime,
        client: Client | None,
        client_id: str,
        worker_id: str,
        task_queue: str,
        worker_options: WorkerOptions | Mapping[str, Any] | None = None,
        tq_prefix: str = "",
    ) -> WorkerSettings:
        if not isinstance(worker_options, WorkerOptions):
            worker_options = WorkerOptions.parse(worker_options)
        return cls(
            runtime=runtime,
            client=client,
            client_id=client_id,
            worker_id=worker_id,
            task_queue=task_queue,
            tq_prefix=tq_prefix,
            activity_retry=worker_options.default_activity_retry_policy,
            log_in_replay=worker_options.enable_logging_in_replay,
            activity_heartbeat=worker_options.default_activity_heartbeat_timeout,
        )

    def queue(self, name: str) -> str:
        """A task queue name we derive, with the client's prefix (§17): never twice."""
        if not self.tq_prefix or name.startswith(self.tq_prefix):
            return name
        return self.tq_prefix + name
