"""Temporal commands issued on behalf of a workflow's Lua code (temporal.md §4, §6, §9, §10).

The module functions (`process`, `funcs`, `workflow`, `crypto`) call these while Lua runs,
inside the workflow task. They answer in the `rt.await` shapes of `lua_bindings.contract.reply`:
at once when the answer is known (self-sends, update replies, rejected arguments).
Everything answered by history parks the calling Lua task and runs as an asyncio task of the
workflow (a deterministic SDK task); its outcome is *posted* to the run, never applied from
the task, so Lua only ever runs in the pump and in the pump's fixed batch order (§5.2).
"""

from __future__ import annotations

import asyncio
import enum
import functools
import inspect
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import attrs
from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.worker import StartActivityInput

from actors import errors
from actors.errors import ActorError, Error, InternalError, InvalidError, NotFoundError
from actors.exits import monitor_event
from actors.host import SpawnRequest
from actors.mailbox import check_topic
from actors.messages import cancel_event
from actors.pid import PID
from actors.registry import Entry
from lua_bindings.contract import Reply, awaitable, reply
from lua_bindings.modules.security import derive_context
from lua_bindings.scheduler import Waiter
from temporal_host import protocol, search
from temporal_host.activities import (
    RANDOM_BYTES,
    RELAY_SEND,
    RESOLVE_NAME,
    SEARCH_ATTRIBUTES,
    TERMINATE,
)
from temporal_host.activity_handle import LightActivityHandle
from temporal_host.interceptors import Header, command_headers, outbound
from temporal_host.meta import PerEntry, TemporalMeta
from temporal_host.options import ActivityOptions, WorkflowOptions, merge
from temporal_host.preflight import check_workflow_entry
from temporal_host.protocol import Payload

if TYPE_CHECKING:
    from temporalio.worker._workflow_instance import _WorkflowInstanceImpl

    from temporal_host.driver import WorkflowRun

Done = Callable[[Any, Error | None], None]
"""Receives an operation's outcome, in the pump: (value, None) or (None, error)."""

ATTRS_CHECK_PATCH = "wippy.attrs-check"
LOCAL_TIMEOUT = timedelta(seconds=30)
LOCAL_RETRY = RetryPolicy(maximum_attempts=3)
"""The reserved local activities return data; only infrastructure failures are retried."""


class Phase(enum.IntEnum):
    """The batch order of the pump (§5.2)."""

    COMPLETION = 0
    MESSAGE = 1
    EXIT = 2
    UPDATE = 3


class Target(enum.Enum):
    """Where a PID leads from inside a workflow (§4.3–4.5, §4.7)."""

    SELF = "self"
    UPDATE = "update"
    WORKFLOW = "workflow"
    LOCAL = "local"


def failure_error(exc: BaseException) -> Error:
    """The `Error` for an exception an SDK operation raised."""
    if isinstance(exc, WorkflowAlreadyStartedError):
        return Error(f"workflow already started: {exc.workflow_id}", errors.ALREADY_EXISTS, False)
    if isinstance(exc, FailureError):
        return protocol.error_from_failure(exc)
    return errors.as_error(exc)


encode = protocol.encode
"""A plain value as a payload; `Invalid` when it can never be one."""


def decode(raw: RawValue | None) -> Any:
    return None if raw is None else protocol.decode_payload(raw.payload)


def parse_pid(dest: str) -> PID | None:
    """A PID, or None when `dest` is a name (strings without braces, lua-api §1.2)."""
    if not PID.is_pid_string(dest):
        return None
    try:
        return PID.parse(dest)
    except ActorError:
        return None


@attrs.frozen
class ChildPlan:
    """A child start, fully checked before anything is issued."""

    type: str
    id: str
    queue: str
    pid: PID
    args: list[RawValue]
    kwargs: dict[str, Any]
    header: Header
    messages: list[tuple[str, Any]]


@attrs.frozen
class ActivityPlan:
    """How calls to one activity are issued (`Commands._activity_plan`)."""

    arguments: dict[str, Any]
    """The keyword arguments of `workflow.start_activity` / `start_local_activity`."""
    input_fields: dict[str, Any] | None
    """For an activity (not a local one): the fields of the SDK's `StartActivityInput`
    other than the call's own (`start_activity`)."""


_START_ACTIVITY_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(workflow.start_activity).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("args", "result_type")
}
"""What `workflow.start_activity` passes for the keyword arguments a call leaves out."""


def start_activity(
    instance: _WorkflowInstanceImpl,
    target: str,
    fields: Mapping[str, Any],
    args: Sequence[RawValue],
    headers: dict[str, Payload],
) -> LightActivityHandle:
    """`workflow.start_activity(target, args=args, result_type=RawValue, **arguments)`
    inside `outbound(header)`, with fewer layers: the `StartActivityInput` the SDK's
    `workflow_start_activity` would build (temporalio 1.35), with our headers already in
    it, handed to the top of the run's outbound interceptor chain. Every interceptor still
    sees the call (ours keeps headers already set; the replay tracer of
    actors/testing/replays.py records it), the command and its payload bytes are the same.
    It saves the module function's instance lookup, the context variable of `outbound`
    and the header merge per call: a workflow task runs cold, where each layer costs
    microseconds (docs/performance.md, "Replay, fourth pass"). Private SDK use, pinned by
    tests/temporal/test_activity_input.py: `instance._outbound` (the chain's top),
    `_assert_not_read_only`, `_disable_eager_activity_execution`. The chain's bottom,
    our own interceptor, makes the handle (temporal_host/activity_handle.py)."""
    instance._assert_not_read_only("start activity")
    handle = instance._outbound.start_activity(
        StartActivityInput(
            activity=target,
            args=tuple(args),  # as the SDK's `*args`
            headers=headers,
            disable_eager_execution=instance._disable_eager_activity_execution,
            arg_types=None,
            ret_type=RawValue,
            **fields,
        )
    )
    return cast(LightActivityHandle, handle)


class Commands:
    """The Temporal side of one run's Lua calls."""

    def __init__(self, run: WorkflowRun) -> None:
        self.run = run
        self.settings = run.settings
        self.registry = run.settings.runtime.app.registry
        self.child_seq = 0
        self.checked_attributes: set[str] = set()
        """Search attributes known to exist (checked in this run, so replays agree)."""

    # Read once per run, when first needed (a run that never sends or starts a child does
    # not scan the registry): a registry change mid-run must not change routing decisions.
    @functools.cached_property
    def clients(self) -> frozenset[str]:
        clients = self.registry.by_kind("temporal.client")
        return frozenset({self.settings.client_id, *(e.id for e in clients)})

    @functools.cached_property
    def workers(self) -> dict[str, Entry]:
        return {e.id: e for e in self.registry.by_kind("temporal.worker")}

    # -- plumbing -------------------------------------------------------------------------------

    def park(self) -> Waiter:
        return self.run.host.park()

    def defer(
        self,
        work: Coroutine[Any, Any, Any],
        done: Done,
        *,
        phase: Phase = Phase.COMPLETION,
        header: Header | None = None,
    ) -> asyncio.Task[None]:
        """Run `work` as a workflow task and post its outcome to `done` in `phase`."""
        run = self.run

        async def task() -> None:
            try:
                result = await work
            except asyncio.CancelledError:
                raise  # our own cancel (future, timer) or an eviction: nobody waits
            except Exception as exc:
                error = failure_error(exc)
                run.post(phase, lambda: done(None, error))
            else:
                run.post(phase, lambda: done(result, None))

        with outbound(header or Header(run.context)):
            return asyncio.create_task(task())

    def call_context(self, extra: Any, actor: Any, scope: Any) -> Mapping[str, Any]:
        """The context an activity sees: the workflow's plus the call site's (defect 5).
        A call site adding nothing (the usual `funcs.call`) shares one copy of the
        workflow's, made once per run; nothing writes to it (it only becomes a header)."""
        if extra is None and actor is None and scope is None:
            return self.plain_context
        return derive_context(self.run.context, extra, actor, scope)

    @functools.cached_property
    def plain_context(self) -> Mapping[str, Any]:
        return derive_context(self.run.context)

    @functools.cached_property
    def _plain_header(self) -> Header:
        """The header of the calls with the plain context, made once per run."""
        return Header(self.plain_context)

    @property
    def _plain_headers(self) -> dict[str, Payload]:
        """The headers of activities called with the plain context: a fresh dict per call
        (an interceptor may replace or extend it), of payloads made once per run."""
        return dict(self._plain_command_headers)

    @functools.cached_property
    def _plain_command_headers(self) -> dict[str, Payload]:
        return command_headers(self._plain_header, self.settings)

    async def _local(self, activity: str, arg: Any, result_type: type | None = None) -> Any:
        handle = workflow.start_local_activity(
            activity,
            arg,
            start_to_close_timeout=LOCAL_TIMEOUT,
            retry_policy=LOCAL_RETRY,
            result_type=result_type,
        )
        return await self.settled(handle)

    async def settled(self, handle: Any) -> Any:
        """Await a local activity, counted in `run.local_pending` meanwhile: its marker must
        be recorded before the run's completion command (issue 12 item 5)."""
        self.run.local_pending += 1
        try:
            return await handle
        finally:
            self.run.local_pending -= 1

    # -- activities (§9) ------------------------------------------------------------------------

    def activity(
        self,
        target: str,
        values: list[Any],
        call_options: Mapping[str, Any],
        context: Mapping[str, Any],
        done: Done,
        *,
        phase: Phase = Phase.COMPLETION,
    ) -> Any:
        """Schedule activity `target`; returns its handle (for `future:cancel()`)."""
        entry = self.registry.get(target)
        plan = self._activity_plan(target, entry, call_options)
        args = [RawValue(encode(value)) for value in values]
        if plan.input_fields is not None:
            headers = (
                self._plain_headers
                if context is self.plain_context
                else command_headers(Header(context), self.settings)
            )
            handle = start_activity(self.run.runtime, target, plan.input_fields, args, headers)
            self.when_resolved(handle, done, phase=phase)
            return handle
        header = self._plain_header if context is self.plain_context else Header(context)
        with outbound(header):
            local_handle = workflow.start_local_activity(
                target, args=args, result_type=RawValue, **plan.arguments
            )

        async def result() -> Any:
            return decode(await self.settled(local_handle))

        self.defer(result(), done, phase=phase)
        return local_handle

    def _activity_plan(
        self, target: str, entry: Entry | None, call_options: Mapping[str, Any]
    ) -> ActivityPlan:
        """How a call to `target` is issued. Made once per worker and entry for calls
        without options of their own (a loop calling one activity, every run of a workflow
        calling it), since the worker's settings never change and an entry whose options
        change is a new entry (a redeploy); the SDK only reads the arguments."""
        plain = not call_options and entry is not None
        plans = self.settings.activity_plans
        if plain:
            known = plans.get(target)
            if known is not None and known[0] is entry:
                return cast(ActivityPlan, known[1])
        try:
            parsed = activity_options(entry, call_options)
            local = entry is not None and TemporalMeta.of(entry).local_activity
        except ActorError as exc:
            raise InvalidError(
                f"invalid temporal activity options for {target}", reason=exc.error.message
            ) from None
        retry = self.settings.activity_retry
        if local:
            plan = ActivityPlan(parsed.local_activity_arguments(retry), None)
        else:
            arguments = parsed.activity_arguments(
                retry, self.settings.queue, self.settings.activity_heartbeat
            )
            plan = ActivityPlan(arguments, {**_START_ACTIVITY_DEFAULTS, **arguments})
        if plain:
            plans[target] = (entry, plan)
        return plan

    def when_resolved(self, handle: LightActivityHandle, done: Done, *, phase: Phase) -> None:
        """Post `handle`'s decoded outcome to `done` in `phase`, as `defer` would, from the
        handle's done callback rather than a task awaiting it: the post happens at the same
        point of the workflow's event loop (a task's wake-up is such a callback), for one
        task and coroutine less per activity. An answer (`Answer`) goes to `run.answer`,
        which applies it at once when it is all the workflow task brings. (Local activities
        keep `defer`: `settled` counts them from the point their task starts, which replays
        depend on.)"""
        run = self.run

        def resolved(handle: LightActivityHandle) -> None:
            if handle.cancelled():
                return  # our own cancel (future:cancel) before it started: nobody waits
            try:
                value, error = decode(handle.result()), None
            except Exception as exc:
                value, error = None, failure_error(exc)
            if type(done) is Answer:
                run.answer(phase, Wake(done.waiter, _answer_values(value, error)))
            else:
                run.post(phase, lambda: done(value, error))

        handle.add_done_callback(resolved)

    def random_bytes(self, count: int, done: Done) -> None:
        """Secure random bytes, recorded (§8.1)."""
        self.defer(self._local(RANDOM_BYTES, count, bytes), done)

    # -- sending (§4) ---------------------------------------------------------------------------

    def classify(self, pid: PID) -> Target:
        """A Temporal target is a PID whose node is a client entry or whose host is a
        worker entry (or `temporal`); self-sends compare (node, workflow ID) (§2.2)."""
        if pid.host == "update" and not pid.node:
            return Target.UPDATE
        temporal = (
            pid.node in self.clients
            or pid.host == "temporal"
            or pid.host == self.settings.worker_id
            or pid.host in self.workers
        )
        # Another client's workflows are out of this namespace's reach: the node routes those.
        if temporal and pid.node in ("", self.settings.client_id):
            return Target.SELF if pid.id == self.run.pid.id else Target.WORKFLOW
        return Target.LOCAL

    def send(self, dest: str, topic: str, value: Any) -> Reply:
        pid = parse_pid(dest)
        if pid is not None:
            return self._send(pid, topic, value, None)
        waiter = self.park()

        def resolved(target: PID | None, error: Error | None) -> None:
            if target is None:
                waiter.fire(None, error)
                return
            now = reply.values(self._send(target, topic, value, waiter))
            if now is not None:
                waiter.fire(*now)

        self.resolve(dest, resolved)
        return reply.parked()

    def _send(self, pid: PID, topic: str, value: Any, waiter: Waiter | None) -> Reply:
        """Route one send; answered now, or parked with `waiter` (or a new one) answered
        later."""
        kind = self.classify(pid)
        if kind is Target.SELF:
            self.run.deliver_message(topic, value, self.run.pid)
            return reply.now(True)
        if kind is Target.UPDATE:
            return self.run.update_reply(pid.id, topic, value)
        try:
            if kind is Target.WORKFLOW:
                work = self._signal(pid.id, topic, encode(value))
                header = Header(self.run.context, str(self.run.pid))
            else:
                me = str(self.run.pid)
                data = {"from": me, "to": str(pid), "topic": topic, "payloads": [value]}
                work = self._relay(RawValue(encode(data)))
                header = None
        except ActorError as exc:
            return reply.failed(exc)
        waiter = waiter or self.park()
        self.defer(work, answer(waiter), header=header)
        return reply.parked()

    async def _signal(self, workflow_id: str, topic: str, payload: Any) -> bool:
        handle = workflow.get_external_workflow_handle(workflow_id)
        try:
            await handle.signal(topic, RawValue(payload))
        except FailureError as exc:
            raise ActorError.of(_external_error(exc, workflow_id)) from None
        return True

    async def _relay(self, data: RawValue) -> bool:
        return _outcome(await self._local(RELAY_SEND, data))

    def resolve(self, name: str, done: Callable[[PID | None, Error | None], None]) -> None:
        """A registered name → PID through the recorded local activity (§4.6)."""

        def resolved(result: Any, error: Error | None) -> None:
            if error is None and isinstance(result, dict) and isinstance(result.get("pid"), str):
                done(PID.parse(result["pid"]), None)
                return
            if error is None:
                error = protocol.error_from_chain(result.get("error")) or Error(
                    f"could not resolve: {name}", errors.NOT_FOUND, False
                )
            done(None, error)

        self.defer(self._local(RESOLVE_NAME, name), resolved)

    # -- cancel and terminate (§12) -------------------------------------------------------------

    def cancel(self, dest: str, reason: str) -> Reply:
        pid = parse_pid(dest)
        if pid is not None:
            return self._cancel(pid, reason, None)
        waiter = self.park()

        def resolved(target: PID | None, error: Error | None) -> None:
            if target is None:
                waiter.fire(None, error)
                return
            now = reply.values(self._cancel(target, reason, waiter))
            if now is not None:
                waiter.fire(*now)

        self.resolve(dest, resolved)
        return reply.parked()

    def _cancel(self, pid: PID, reason: str, waiter: Waiter | None) -> Reply:
        kind = self.classify(pid)
        if kind is Target.SELF:
            self.run.deliver_event(cancel_event(self.run.pid, reason), at_now=True)
            return reply.now(True)
        if kind is not Target.WORKFLOW:
            return reply.failed(
                InvalidError(
                    "process.cancel of a process that is not a workflow is not supported "
                    "in workflow context"
                )
            )
        waiter = waiter or self.park()
        self.defer(self._cancel_external(pid.id, reason), answer(waiter))
        return reply.parked()

    async def _cancel_external(self, workflow_id: str, reason: str) -> bool:
        handle = workflow.get_external_workflow_handle(workflow_id)
        try:
            await handle.cancel(reason=reason)
        except FailureError as exc:
            raise ActorError.of(_external_error(exc, workflow_id)) from None
        return True

    def terminate(self, dest: str) -> Reply:
        """Through the client, in a local activity (defect 8); names resolve there too."""
        waiter = self.park()
        data = {"target": dest, "from": str(self.run.pid)}

        async def work() -> bool:
            return _outcome(await self._local(TERMINATE, data))

        self.defer(work(), answer(waiter))
        return reply.parked()

    # -- child workflows (§10) ------------------------------------------------------------------

    def worker_of(self, target: str) -> str:
        """The worker a workflow entry names (`workflow.exec`); "" (the parent's queue) when
        the entry is unknown here or names none."""
        entry = self.registry.get(target)
        return (TemporalMeta.of(entry).workflow_worker or "") if entry is not None else ""

    @awaitable
    def spawn_child(self, request: SpawnRequest, host: str, *, wait: bool) -> Reply:
        """`process.spawn*` (the PID once started; EXIT later) or `exec` / `workflow.exec`
        (the result) of a child workflow."""
        plan = self._child_plan(request, host)
        self._start_child(plan, self.park(), wait)
        return reply.parked()

    def _child_plan(self, request: SpawnRequest, host: str) -> ChildPlan:
        entry = self.registry.get(request.target)
        if entry is None:
            raise NotFoundError(f"entry not found: {request.target}")
        if not entry.kind.startswith("workflow."):
            raise InvalidError(
                f"{entry.id} is a {entry.kind}, not a workflow: "
                "a workflow can only spawn child workflows"
            )
        check_workflow_entry(entry, self.registry)
        type_name = TemporalMeta.of(entry).workflow_type
        parsed = WorkflowOptions.parse(request.options)
        queue, worker = self._child_queue(host, parsed.task_queue)
        kwargs = parsed.child_arguments(workflow.info().namespace)
        args = [RawValue(encode(value)) for value in request.args]
        messages = [(check_topic(topic), encode(value)) for topic, value in request.messages]
        child_id = parsed.id or request.name
        if not child_id:
            self.child_seq += 1
            child_id = f"{workflow.info().run_id}_{self.child_seq}"
        return ChildPlan(
            type=type_name,
            id=child_id,
            queue=queue,
            pid=protocol.workflow_pid(self.settings.client_id, worker, child_id),
            args=args,
            kwargs=kwargs,
            header=Header(request.context),
            messages=messages,
        )

    def _child_queue(self, host: str, override: str | None) -> tuple[str, str]:
        """(task queue, worker entry for the PID): a worker entry means its queue, anything
        else is a queue name, empty is the parent's queue (§10, defect 17)."""
        settings = self.settings
        if override:
            return self._queue_worker(settings.queue(override))
        if not host:
            return workflow.info().task_queue, settings.worker_id
        worker = self.workers.get(host)
        if worker is not None and isinstance(worker.data.get("task_queue"), str):
            return settings.queue(worker.data["task_queue"]), worker.id
        return self._queue_worker(settings.queue(host))

    def _queue_worker(self, queue: str) -> tuple[str, str]:
        for worker in self.workers.values():
            task_queue = worker.data.get("task_queue")
            if isinstance(task_queue, str) and self.settings.queue(task_queue) == queue:
                return queue, worker.id
        return queue, self.settings.worker_id

    def _start_child(self, plan: ChildPlan, waiter: Waiter, wait: bool) -> None:
        run = self.run

        async def child() -> None:
            try:
                handle = await workflow.start_child_workflow(
                    plan.type,
                    args=plan.args,
                    id=plan.id,
                    task_queue=plan.queue,
                    result_type=RawValue,
                    **plan.kwargs,
                )
                # Startup messages (`with_message`) go before the spawn returns (§3.4).
                with outbound(Header(sender=str(run.pid))):
                    for topic, payload in plan.messages:
                        await handle.signal(topic, RawValue(payload))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = failure_error(exc)
                run.post(Phase.COMPLETION, lambda: waiter.fire(None, error))
                return
            if not wait:
                run.post(Phase.COMPLETION, lambda: waiter.fire(str(plan.pid)))
            outcome: Error | None
            try:
                value, outcome = decode(await handle), None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                value, outcome = None, failure_error(exc)
            if wait:
                run.post(Phase.COMPLETION, lambda: answer(waiter)(value, outcome))
            else:
                # Children are always monitored (§10, actors/exits.py).
                run.post(
                    Phase.EXIT,
                    lambda: run.deliver_event(monitor_event(plan.pid, value, outcome), at_now=True),
                )

        with outbound(plan.header):
            # The workflow's event loop holds its tasks strongly.
            asyncio.create_task(child())  # noqa: RUF006

    # -- continue-as-new (§13) ------------------------------------------------------------------

    def upgrade(self, target: str | None, values: list[Any]) -> None:
        """`process.upgrade`: end the run and continue as new with `target`'s type (the
        current type when None), checked and encoded now."""
        type_name = workflow.info().workflow_type
        if target is not None:
            entry = self.registry.get(target)
            if entry is None:
                raise NotFoundError(f"entry not found: {target}")
            type_name = TemporalMeta.of(entry).workflow_type
        self.run.upgrade(type_name, [RawValue(encode(value)) for value in values])

    # -- search attributes and memo (§13) -------------------------------------------------------

    @awaitable
    def upsert(self, attributes: Any, memo: Any) -> Reply:
        """`workflow.attrs`: the search attributes are checked (and registered on the
        embedded server) by a local activity first, once per name and run, so an unknown
        one is `nil, err` instead of a workflow task failing forever (issue 12 item 4)."""
        pairs = list(search.typed("workflow.attrs.search", _table("search", attributes or {})))
        memo_values = _table("memo", memo) if memo else None

        def apply() -> None:
            if pairs:
                updates = [pair.key.value_set(pair.value) for pair in pairs]
                workflow.upsert_search_attributes(updates)
            if memo_values:
                workflow.upsert_memo(memo_values)

        wanted = {
            pair.key.name: search.TYPE_NAMES[pair.key.indexed_value_type]
            for pair in pairs
            if pair.key.name not in self.checked_attributes
        }
        # Histories recorded before the check existed upsert at once (a patch marker).
        if not wanted or not workflow.patched(ATTRS_CHECK_PATCH):
            apply()
            return reply.now(True)
        waiter = self.park()

        def checked(result: Any, error: Error | None) -> None:
            if error is None:
                try:
                    _outcome(result)
                except ActorError as exc:
                    error = exc.error
            if error is not None:
                waiter.fire(None, error)
                return
            self.checked_attributes.update(wanted)
            apply()
            waiter.fire(True)

        self.defer(self._local(SEARCH_ATTRIBUTES, wanted), checked)
        return reply.parked()


def activity_options(entry: Entry | None, call_options: Mapping[str, Any]) -> ActivityOptions:
    """The entry's default `options` with the call site's on top (§9.3)."""
    if entry is None or call_options:
        return _parse_options(entry, call_options)
    return _ENTRY_OPTIONS.get(entry)


def _parse_options(entry: Entry | None, call_options: Mapping[str, Any]) -> ActivityOptions:
    defaults = entry.meta.get("options") if entry is not None else None
    if not isinstance(defaults, dict):
        defaults = None
    return ActivityOptions.parse(merge(defaults, call_options))


_ENTRY_OPTIONS = PerEntry(lambda entry: _parse_options(entry, {}))
"""The options of calls that add none to their entry's defaults, parsed once per entry."""


def _table(key: str, value: Any) -> dict[str, Any]:
    if value == []:
        return {}
    if not isinstance(value, dict):
        raise InvalidError(f"{key}: expected a table")
    return value


def _external_error(exc: FailureError, workflow_id: str) -> Error:
    """A failed external signal or cancel: a missing target is `NotFound` (defect 16)."""
    if "not found" in str(exc).lower():
        return protocol.not_found(workflow_id)
    return failure_error(exc)


def _outcome(result: Any) -> bool:
    """`{ok = true}` → True; `{ok = false, error = chain}` → raises that error."""
    if isinstance(result, dict) and result.get("ok") is True:
        return True
    chain = result.get("error") if isinstance(result, dict) else None
    error = protocol.error_from_chain(chain)
    raise ActorError.of(error) if error is not None else InternalError("operation failed")


class Answer:
    """The `Done` that resumes `waiter` with `value` or `nil, err`. The pump recognises the
    `Wake` it posts (`when_resolved`) and wakes the task in the same call into Lua that
    runs the kernel (driver.py, `WorkflowRun.step`)."""

    __slots__ = ("waiter",)

    def __init__(self, waiter: Waiter) -> None:
        self.waiter = waiter

    def __call__(self, value: Any, error: Error | None) -> None:
        self.waiter.fire(*_answer_values(value, error))


class Wake:
    """A posted answer: `waiter` fired with `values` when the pump applies it."""

    __slots__ = ("values", "waiter")

    def __init__(self, waiter: Waiter, values: tuple[Any, ...]) -> None:
        self.waiter = waiter
        self.values = values

    def __call__(self) -> None:
        self.waiter.fire(*self.values)


def _answer_values(value: Any, error: Error | None) -> tuple[Any, ...]:
    return (value,) if error is None else (None, error)


answer = Answer
