"""The Temporal host: process operations on workflow PIDs become Temporal client calls.

One `WorkflowHost` serves each `temporal.worker` entry (its name is the worker entry ID, the
`host` argument of `process.spawn`), and the node also routes the client entry ID (the node
part of every workflow PID) to it (temporal.md §2.3). A Temporal worker, when the worker side
provides one, polls the entry's task queue next to it; the host itself only talks to the
server, so it works the same whether the workflow runs here or on another machine.

Workflows are durable: nothing a local process does to its own side (exiting, crashing,
unlinking) affects a workflow, and stopping the host stops only the Temporal worker, never
the workflows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import anyio
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import RawValue, WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from actors import errors
from actors.errors import ActorError, Error, error, invalid
from actors.host import Host, SpawnRequest
from actors.mailbox import check_topic
from actors.messages import Event, Message, exit_event
from actors.pid import PID, local_id
from actors.registry import Entry, Registry
from lua_bindings.modules.security import visible_context
from temporal_host.client_interceptors import outgoing
from temporal_host.connection import Connection
from temporal_host.meta import TemporalMeta
from temporal_host.options import WorkflowOptions
from temporal_host.preflight import check_workflow_entry
from temporal_host.protocol import encode, not_found, workflow_pid
from temporal_host.search import inferred_types

log = logging.getLogger(__name__)

TERMINATE_REASON = "process.terminate"


class WorkflowHost(Host):
    """Starts, signals, cancels, terminates and watches workflows through one client.

    `task_queue` is the worker entry's queue without the client's prefix; None makes a
    routing-only host for a client that has no worker entry here (it cannot start
    workflows, but sends, cancels, monitors... to workflow PIDs of that client still work).
    """

    in_memory = False

    def __init__(
        self,
        name: str,
        connection: Connection,
        registry: Registry,
        *,
        task_queue: str | None = None,
        worker: Worker | None = None,
        check_source: Callable[[Entry], None] | None = None,
    ) -> None:
        self.name = name
        self.connection = connection
        self.registry = registry
        self.task_queue = task_queue
        self.worker = worker
        self.check_source = check_source
        """Compiles a workflow's source at spawn (preflight); None skips the check."""
        self._instance = str(uuid.uuid4())
        self._counter = 0
        self._worker_done = anyio.Event()

    @property
    def client(self) -> Client:
        return self.connection.client

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        if self.worker is not None:
            self.node.start_soon(self._serve, self.worker)

    async def _serve(self, worker: Worker) -> None:
        try:
            await worker.run()
        except Exception:
            log.exception("temporal worker %s stopped with an error", self.name)
        finally:
            self._worker_done.set()

    async def stop(self, grace: float) -> None:
        """Stop polling; the workflows themselves carry on (they are durable)."""
        if self.worker is None:
            return
        with anyio.move_on_after(max(grace, 1.0)):
            await self.worker.shutdown()
            await self._worker_done.wait()

    # -- spawning ---------------------------------------------------------------------------

    async def spawn(self, request: SpawnRequest) -> PID:
        """Start a workflow (§3.2); startup messages are delivered and the requested monitor
        and link are in place before this returns."""
        if self.task_queue is None:
            raise invalid(
                f"{self.name} is a temporal.client; start workflows on one of its "
                "temporal.worker entries"
            )
        entry = self._workflow_entry(request.target)
        options = WorkflowOptions.parse(request.options)
        explicit_id = options.id or request.name
        workflow_id = explicit_id or self._generate_id()
        queue = self.connection.settings.task_queue(options.task_queue or self.task_queue)
        worker = self.connection.workers_by_queue.get(queue, self.name)
        # A worker serving this queue here must be the entry's: others never run it.
        local_worker = worker if queue in self.connection.workers_by_queue else None
        check_workflow_entry(entry, self.registry, local_worker)
        if self.check_source is not None:
            self.check_source(entry)
        if options.search_attributes and self.connection.search is not None:
            await self.connection.search.ensure(
                inferred_types("workflow.search_attributes", options.search_attributes)
            )
        pid = workflow_pid(self.connection.id, worker, workflow_id)
        with outgoing(visible_context(request.context), request.parent):
            handle = await self._start(
                pid,
                TemporalMeta.of(entry).workflow_type,
                request,
                queue=queue,
                policy=options.conflict_policy(explicit_id=bool(explicit_id)),
                kwargs=options.start_arguments(),
            )
        await self._watch_started(pid, request, handle)
        return pid

    async def _start(
        self,
        pid: PID,
        type_: str,
        request: SpawnRequest,
        *,
        queue: str,
        policy: WorkflowIDConflictPolicy,
        kwargs: dict[str, Any],
    ) -> WorkflowHandle[Any, Any]:
        """Start (or join) the workflow and deliver the startup messages, in order: the
        first one with the start (signal-with-start), the others as signals (§3.4)."""
        messages = [(check_topic(topic), value) for topic, value in request.messages]
        # The server rejects signal-with-start with the `fail` policy: then the workflow is
        # started plainly and every message is a signal.
        if messages and policy != WorkflowIDConflictPolicy.FAIL:
            (topic, value), messages = messages[0], messages[1:]
            kwargs = {
                **kwargs,
                "start_signal": topic,
                "start_signal_args": [RawValue(encode(value, "message"))],
            }
        try:
            handle = await self.client.start_workflow(
                type_,
                args=[RawValue(encode(arg, "argument")) for arg in request.args],
                id=pid.id,
                task_queue=queue,
                id_conflict_policy=policy,
                **kwargs,
            )
        except WorkflowAlreadyStartedError:
            raise error(errors.ALREADY_EXISTS, f"workflow already started: {pid.id}") from None
        except RPCError as exc:
            raise _start_failure(exc, pid.id) from None
        for topic, value in messages:
            await self._signal(pid, topic, value)
        return handle

    def _workflow_entry(self, target: Any) -> Entry:
        if not isinstance(target, str):
            raise invalid("a workflow is spawned by entry ID (namespace:name)")
        entry = self.registry.get(target)
        if entry is None:
            raise errors.not_found(f"entry not found: {target}")
        if not entry.kind.startswith("workflow."):
            raise invalid(f"entry {target} is a {entry.kind}, not a workflow")
        return entry

    def _generate_id(self) -> str:
        """`<uuid of this host instance>_<counter>`, the counter in local-PID style (§2.1)."""
        self._counter += 1
        return f"{self._instance}_{local_id(self._counter)}"

    async def _watch_started(
        self, pid: PID, request: SpawnRequest, handle: WorkflowHandle[Any, Any]
    ) -> None:
        """Monitor / link of a spawn follow the run just started (or joined), §3.2 step 8."""
        parent = request.parent
        if parent is None or not (request.monitor or request.link):
            return
        run_id = handle.result_run_id
        if request.link:
            await self.node.hold_link(parent, pid)
            self.connection.watchers.link(pid, parent, run_id)
        if request.monitor:
            self.node.track_monitor(parent, pid)
            self.connection.watchers.monitor(pid, parent, run_id)

    # -- messages and lifecycle requests -----------------------------------------------------

    async def send(self, target: PID, message: Message) -> None:
        with outgoing(sender=message.sender):
            await self._signal(target, message.topic, message.payload)

    async def _signal(self, target: PID, topic: str, value: Any) -> None:
        """One signal named after the topic, one payload (the values as `process.send`
        packed them); the sender travels in the header set by `outgoing`."""
        payload = encode(value, "message")
        if self.connection.guard is not None:
            await self.connection.guard.check(target.id, payload.ByteSize())
        try:
            await self.client.get_workflow_handle(target.id).signal(topic, RawValue(payload))
        except RPCError as exc:
            raise _failure(exc, target.id) from None

    async def terminate(self, target: PID, requester: PID | None) -> None:
        try:
            await self.client.get_workflow_handle(target.id).terminate(reason=TERMINATE_REASON)
        except RPCError as exc:
            raise _failure(exc, target.id) from None

    async def cancel(self, target: PID, requester: PID, reason: str) -> None:
        """A cancel request to the current run (empty run ID, defect 9). The reason travels
        in the request itself; the workflow reads it with `workflow.cancellation_reason()`.

        The server accepts (and ignores) a cancel request for a closed workflow, so the
        workflow is looked at first: cancelling a finished one is `NotFound`, exactly like
        cancelling a dead local process."""
        await self._running(target)
        try:
            await self.client.get_workflow_handle(target.id).cancel(reason=reason)
        except RPCError as exc:
            raise _failure(exc, target.id) from None

    # -- monitors and links -------------------------------------------------------------------

    async def monitor(self, target: PID, watcher: PID) -> None:
        """No check first: a missing workflow is reported by the watcher as EXIT NotFound,
        and a finished one as EXIT with its real outcome."""
        self.connection.watchers.monitor(target, watcher)

    def unmonitor(self, target: PID, watcher: PID) -> None:
        self.connection.watchers.unmonitor(target, watcher)

    async def link(self, target: PID, peer: PID) -> None:
        """Linking needs a running workflow, as linking needs a live local process."""
        description = await self._running(target)
        self.connection.watchers.link(target, peer, description.run_id)

    async def _running(self, target: PID) -> Any:
        """The description of the running workflow `target`; `NotFound` when it has ended."""
        try:
            description = await self.client.get_workflow_handle(target.id).describe()
        except RPCError as exc:
            raise _failure(exc, target.id) from None
        if description.status != WorkflowExecutionStatus.RUNNING:
            raise ActorError.of(not_found(target.id))
        return description

    def unlink(self, target: PID, peer: PID) -> None:
        self.connection.watchers.unlink(target, peer)

    # -- reports about local processes ----------------------------------------------------------

    def deliver_event(self, target: PID, event: Event) -> None:
        """Workflows do not receive local events (they cannot monitor local processes)."""
        log.debug("dropped %s for workflow %s", event.kind, target)

    def link_down(self, target: PID, source: PID, error: Error) -> None:
        """A linked local process failed: only its watch ends, never the workflow (§11.3,
        `exits.LINKS_REACH`)."""
        self.connection.watchers.unlink(target, source)

    def link_released(self, target: PID, source: PID) -> None:
        self.connection.watchers.unlink(target, source)

    def is_alive(self, pid: PID) -> bool:
        """Always true: only the server knows, and asking would need I/O. A name registered
        for a finished workflow fails when used (NotFound), like a send to it."""
        return True

    async def wait_exit(self, pid: PID) -> Event:
        """The EXIT event of a workflow (current run, through continue-as-new): used by
        `process.exec`, `actors exec` and supervised services."""
        value, error = await self.connection.watchers.outcome(pid.id)
        return exit_event(pid, value, error)


def _failure(exc: RPCError, workflow_id: str, action: str = "send to") -> ActorError:
    """§4.1: a missing or finished workflow is NotFound; a request that can never succeed as
    sent (a blob, a name or the whole message over a limit) is Invalid and not retryable
    (issue 12 item 8); anything else (unreachable, overloaded) is Unavailable."""
    if exc.status == RPCStatusCode.NOT_FOUND:
        return ActorError.of(not_found(workflow_id))
    if _permanent(exc):
        return invalid(f"cannot {action} workflow {workflow_id}: {exc.message}")
    return error(errors.UNAVAILABLE, f"temporal: {exc.message}", retryable=True)


def _permanent(exc: RPCError) -> bool:
    message = exc.message.lower()
    if exc.status == RPCStatusCode.INVALID_ARGUMENT:
        return True
    # Overload is RESOURCE_EXHAUSTED too, but without a size limit in the message.
    return exc.status == RPCStatusCode.RESOURCE_EXHAUSTED and (
        "limit" in message or "larger than max" in message
    )


def _start_failure(exc: RPCError, workflow_id: str) -> ActorError:
    if exc.status == RPCStatusCode.NOT_FOUND:
        return errors.not_found(f"cannot start workflow {workflow_id}: {exc.message}")
    return _failure(exc, workflow_id, "start")
