"""Watchers: how local processes monitor and link to workflows (temporal.md §11).

Temporal does not push exits to anyone, so one watcher per watched workflow run awaits its
outcome with a single long poll (`WorkflowHandle.result`, which also follows continue-as-new)
and then tells the processes that are subscribed *at that moment*, by the exit rule of
`actors/exits.py` for a workflow source: EXIT to monitors; to links LINK_DOWN when the
workflow failed, was cancelled, terminated or timed out, and EXIT when it completed. A
process that is both gets one EXIT on success, EXIT and LINK_DOWN otherwise.

Transient errors while awaiting (connection loss, deadlines, an unavailable server) never
produce an event: the poll is retried with backoff (0.5 s doubling to 2 s). Only a real outcome,
or a workflow that does not exist, does. Unsubscribing is synchronous, and delivery happens
without an await after the outcome arrives, so after `unmonitor` / `unlink` returns no event
for that subscriber can follow.

The registry lives on the node's side (one per Temporal client, shared by all worker hosts of
that client) and its tasks run in the node's task group, so nothing is lost when a
connection drops: the SDK reconnects and the retried poll picks up where it left off.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio
import attrs
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from actors import errors
from actors.errors import Error
from actors.exits import Source, notify_exit
from actors.pid import PID
from temporal_host.protocol import error_from_failure, not_found

if TYPE_CHECKING:
    from actors.node import Node

log = logging.getLogger(__name__)

BACKOFF_INITIAL = 0.5
BACKOFF_MAX = 2.0
"""Capped low: after an outage the exit events arrive within seconds of the server's
recovery (a retried long poll costs the server next to nothing)."""


@attrs.define(eq=False)
class Watch:
    """Subscribers of one workflow run (`run_id` None: whatever run is current)."""

    pid: PID
    run_id: str | None
    monitors: dict[PID, None] = attrs.field(factory=dict)
    links: dict[PID, None] = attrs.field(factory=dict)
    scope: anyio.CancelScope = attrs.field(factory=anyio.CancelScope)

    @property
    def idle(self) -> bool:
        return not self.monitors and not self.links


class Watchers:
    """The watchers of one Temporal client, keyed by workflow ID, then run ID."""

    def __init__(self, node: Node, client: Client) -> None:
        self.node = node
        self.client = client
        self._watches: dict[str, dict[str | None, Watch]] = {}

    # -- subscribing ------------------------------------------------------------------------

    def monitor(self, pid: PID, watcher: PID, run_id: str | None = None) -> None:
        self._watch(pid, run_id).monitors[watcher] = None

    def link(self, pid: PID, peer: PID, run_id: str | None = None) -> None:
        self._watch(pid, run_id).links[peer] = None

    def unmonitor(self, pid: PID, watcher: PID) -> None:
        for watch in self._watches_of(pid):
            watch.monitors.pop(watcher, None)
            self._release_if_idle(watch)

    def unlink(self, pid: PID, peer: PID) -> None:
        for watch in self._watches_of(pid):
            watch.links.pop(peer, None)
            self._release_if_idle(watch)

    def watching(self, pid: PID) -> bool:
        """Whether some local process still monitors or links to `pid` (tests, diagnostics)."""
        return bool(self._watches.get(pid.id))

    def _watch(self, pid: PID, run_id: str | None) -> Watch:
        runs = self._watches.setdefault(pid.id, {})
        watch = runs.get(run_id)
        if watch is None:
            # One watch per workflow (§11.1), so a process that both monitors and links gets
            # one EXIT: a subscription that pins no run, or a watch that follows the current
            # run, joins what is there. Only a start of a new run pins a different one.
            for existing in reversed(runs.values()):
                if run_id is None or existing.run_id is None:
                    watch = existing
                    break
        if watch is None:
            watch = runs[run_id] = Watch(pid, run_id)
            self.node.start_soon(self._run, watch)
        return watch

    def _watches_of(self, pid: PID) -> list[Watch]:
        return list(self._watches.get(pid.id, {}).values())

    def _release_if_idle(self, watch: Watch) -> None:
        if watch.idle:
            watch.scope.cancel()
            self._forget(watch)

    def _forget(self, watch: Watch) -> None:
        runs = self._watches.get(watch.pid.id)
        if runs is not None and runs.get(watch.run_id) is watch:
            del runs[watch.run_id]
            if not runs:
                del self._watches[watch.pid.id]

    # -- watching ---------------------------------------------------------------------------

    async def _run(self, watch: Watch) -> None:
        with watch.scope:
            value, error = await self.outcome(watch.pid.id, watch.run_id)
            # No await from here on: the subscribers read now are exactly those still
            # subscribed when the outcome arrived.
            self._forget(watch)
            notify_exit(
                self.node,
                watch.pid,
                value,
                error,
                source=Source.WORKFLOW,
                monitors=watch.monitors,
                links=watch.links,
            )

    async def outcome(
        self, workflow_id: str, run_id: str | None = None
    ) -> tuple[Any, Error | None]:
        """(value, error) of the workflow's final outcome, following continue-as-new.

        Waits as long as the workflow runs and retries transient failures forever; the caller
        bounds it by cancellation.
        """
        handle = self.client.get_workflow_handle(workflow_id, run_id=run_id)
        delay = BACKOFF_INITIAL
        while True:
            try:
                return await handle.result(follow_runs=True), None
            except WorkflowFailureError as exc:
                return None, error_from_failure(exc.cause)
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return None, not_found(workflow_id)
                log.warning(
                    "awaiting workflow %s failed (%s), retrying in %.0fs", workflow_id, exc, delay
                )
            except Exception as exc:  # the workflow ended, but its result cannot be read
                return None, Error(
                    f"cannot read the result of workflow {workflow_id}: {exc}",
                    errors.INTERNAL,
                    False,
                )
            await anyio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)
