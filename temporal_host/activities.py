"""The activity side of a worker (temporal.md §9.7, §4.4, §4.6, §8.1, §12.1).

One dynamic activity serves every Lua activity: it resolves the entry from the activity type
on each call, so registrations added or removed while the worker runs take effect at once.
The entry runs through the ordinary function layer of the node (a `function.lua` entry on the
`funcs` host, a `process.lua` entry on its `meta.default_host`), with the context values of
the `wippy-context` header.

The reserved local activities are the workflow's door to the node. They never fail: they
return data (`{ok = true}` or `{ok = false, error = <error chain>}`), so a failed send or
lookup is recorded in history like any other outcome and replays identically (defect 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

from temporalio import activity
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from actors import errors, run_at_once
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from actors.messages import Event
from actors.pid import PID
from lua_bindings.modules.funcs import resolve_target
from temporal_host import protocol
from temporal_host.interceptors import ACTIVITY_CONTEXT
from temporal_host.meta import TemporalMeta

if TYPE_CHECKING:
    from actors.node import Node
    from temporal_host.settings import WorkerSettings

log = logging.getLogger(__name__)

RELAY_SEND = "__wippy_relay_send"
RESOLVE_NAME = "__wippy_resolve_name"
RANDOM_BYTES = "__wippy_random_bytes"
TERMINATE = "__wippy_terminate"
SEARCH_ATTRIBUTES = "__wippy_search_attributes"
MAX_RANDOM_BYTES = 1 << 20

ACTIVITY_KINDS = ("function.", "process.")


class LuaActivities:
    """The activities of one worker, bound to its settings (node, registry, client)."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings

    def definitions(self) -> list[Any]:
        return [
            self.run_entry,
            self.relay_send,
            self.resolve_name,
            self.random_bytes,
            self.terminate,
            self.search_attributes,
        ]

    # -- Lua entries --------------------------------------------------------------------------

    @activity.defn(dynamic=True)
    async def run_entry(self, args: Sequence[RawValue]) -> RawValue:
        name = activity.info().activity_type
        entry = self.settings.runtime.app.registry.get(name)
        if (
            entry is None
            or not entry.kind.startswith(ACTIVITY_KINDS)
            or TemporalMeta.of(entry).activity_worker != self.settings.worker_id
        ):
            # Retryable: another worker version may serve it (§9.7, reference behaviour).
            raise protocol.application_error(
                Error(f"activity not registered: {name}", errors.NOT_FOUND, True)
            )
        try:
            values = tuple(protocol.decode_payload(arg.payload) for arg in args)
            host_name, entry = resolve_target(self.settings.runtime.app.registry, name)
        except ActorError as exc:
            raise protocol.application_error(exc.error) from None
        event = await self._call(host_name, entry.id, values)
        if event.error is not None:
            raise protocol.application_error(event.error)
        try:
            return RawValue(protocol.to_payload(event.value))
        except Exception as exc:
            error = Error(f"cannot encode the result of {name}: {exc}", errors.INTERNAL, False)
            raise protocol.application_error(error) from exc

    async def _call(self, host_name: str, target: str, values: tuple[Any, ...]) -> Event:
        """Spawn the entry with the header's context and await its exit; cancelling the
        activity terminates the call. Heartbeats are sent automatically while it runs.

        On an in-memory host (the usual `funcs` host) the process runs before this task
        yields: spawned by `Node.spawn_call` inside `run_at_once.collecting()`, its host
        runs the kernel when the block ends, so a function that does not block has exited
        (and its EXIT has reached `exited`) before the event loop's next pass, without a
        wake-up of the host's driver and a pass of the loop for it (docs/performance.md,
        "The same machine the next night"). A call without context values is made in Lua
        without a Python record (docs/performance.md, "An activity without a record"), and
        made and run in one call into Lua when the host's driver sleeps (`at_once`)."""
        node = self.settings.runtime.node
        context = dict(ACTIVITY_CONTEXT.get() or {})
        request = SpawnRequest(target=target, args=values, context=context)
        exited: asyncio.Future[Event] = asyncio.get_running_loop().create_future()

        def record(event: Event) -> None:
            if not exited.done():  # a cancelled activity leaves nobody waiting
                exited.set_result(event)

        try:
            if node.answers_at_once(host_name):
                with run_at_once.collecting():
                    pid, _ = node.spawn_call(host_name, request, record, at_once=True)
                waiting: Awaitable[Event] = exited
            else:
                pid = await node.spawn(host_name, request)
                waiting = node.wait_exit(pid)  # a host that cannot call back
        except ActorError as exc:
            raise protocol.application_error(exc.error) from None
        if exited.done():
            return exited.result()
        return await self._await_exit(node, pid, waiting)

    @staticmethod
    async def _await_exit(node: Node, pid: PID, exited: Awaitable[Event]) -> Event:
        """The EXIT event `exited` brings, heartbeating meanwhile; a cancelled activity
        terminates the process."""
        interval = _heartbeat_interval()
        beating = _Heartbeat(interval) if interval else None
        try:
            return await exited
        except asyncio.CancelledError:
            with contextlib.suppress(ActorError):
                await node.terminate(None, pid)
            raise
        finally:
            if beating is not None:
                beating.stop()

    # -- reserved local activities -------------------------------------------------------------

    @activity.defn(name=RELAY_SEND)
    async def relay_send(self, data: dict[str, Any]) -> dict[str, Any]:
        """Workflow → node send (§4.4): `{from, to, topic, payloads}`; payloads are the
        message values, of which the receiver gets nil / the value / the array (§4.1)."""
        values = data.get("payloads") or []
        payload = None if not values else values[0] if len(values) == 1 else list(values)
        return await _outcome(
            self.settings.runtime.node.send(
                PID.parse(data["from"]), data["to"], data["topic"], payload
            )
        )

    @activity.defn(name=RESOLVE_NAME)
    async def resolve_name(self, name: str) -> dict[str, Any]:
        try:
            return {"pid": str(self.settings.runtime.node.lookup(name))}
        except ActorError as exc:
            return {"error": protocol.error_chain(exc.error)}

    @activity.defn(name=RANDOM_BYTES)
    async def random_bytes(self, n: int) -> bytes:
        if not isinstance(n, int) or not 0 < n <= MAX_RANDOM_BYTES:
            raise ApplicationError(f"invalid random length {n!r}", non_retryable=True)
        return os.urandom(n)

    @activity.defn(name=SEARCH_ATTRIBUTES)
    async def search_attributes(self, types: dict[str, str]) -> dict[str, Any]:
        """`workflow.attrs` asks before upserting (issue 12 item 4): the attributes exist
        with a compatible type (registered now on the embedded server), or an error naming
        the attribute comes back as data, so the call returns `nil, err`."""
        search = self.settings.search
        if search is None:
            return {"ok": True}
        return await _outcome(search.ensure(types))

    @activity.defn(name=TERMINATE)
    async def terminate(self, data: dict[str, Any]) -> dict[str, Any]:
        """Terminate through the client (§12.1): the worker's own client for its workflows,
        the node's routing (another client's host, or a local host) for everything else."""
        settings = self.settings
        try:
            target = settings.runtime.node.resolve(data["target"])
        except ActorError as exc:
            return {"ok": False, "error": protocol.error_chain(exc.error)}
        ours = target.node == settings.client_id or (
            not target.node and target.host == settings.worker_id
        )
        if ours and settings.client is not None:
            handle = settings.client.get_workflow_handle(target.id)
            return await _outcome(handle.terminate(reason="process.terminate"), target.id)
        requester = PID.parse(data["from"]) if data.get("from") else None
        return await _outcome(settings.runtime.node.terminate(requester, target))


async def _outcome(work: Any, workflow_id: str | None = None) -> dict[str, Any]:
    try:
        await work
    except ActorError as exc:
        return {"ok": False, "error": protocol.error_chain(exc.error)}
    except Exception as exc:
        error = _client_error(exc, workflow_id)
        return {"ok": False, "error": protocol.error_chain(error)}
    return {"ok": True}


def _client_error(exc: Exception, workflow_id: str | None) -> Error:
    if isinstance(exc, RPCError):
        if exc.status == RPCStatusCode.NOT_FOUND and workflow_id is not None:
            return protocol.not_found(workflow_id)
        return Error(str(exc), errors.UNAVAILABLE, True)
    return errors.as_error(exc)


def _heartbeat_interval() -> float | None:
    """A third of the activity's heartbeat timeout, when it has one (our choice for §9.7:
    Lua activities have no heartbeat API; the worker heartbeats for them while they run)."""
    timeout = activity.info().heartbeat_timeout
    if not timeout:
        return None
    return max(timeout.total_seconds() / 3, 0.1)


class _Heartbeat:
    """Beats every `interval` while the activity runs; the first beat comes one interval in
    (the start itself counts as a sign of life), so a short call sends none.

    A timer callback rather than a task: nearly every call ends before its first beat, and
    a task per call costs a coroutine, a first step and a cancellation that runs the task
    once more, where a timer handle is made and cancelled. The handle runs in a copy of the
    activity's context, which `activity.heartbeat` reads."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_later(interval, self._beat)

    def _beat(self) -> None:
        activity.heartbeat()
        self._handle = self._loop.call_later(self._interval, self._beat)

    def stop(self) -> None:
        self._handle.cancel()
