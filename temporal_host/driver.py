"""The workflow driver: `workflow.lua` entries as durable Temporal workflows (temporal.md §5).

`LuaWorkflow` is the one dynamic workflow class of every worker. Each run owns a
`WorkflowRun`: a Lua state (`WorkflowLuaHost`, a `LuaHost` whose scheduler is stepped by the
workflow and whose clock, timers and randomness are Temporal's) with the workflow as its one
process, and the pump that feeds it:

    run.start(args)                      # Lua runs until every coroutine is blocked
    while not run.done:
        await run.events()               # workflow.wait_condition(run.has_events)
        run.step()                       # one batch, in the fixed order of §5.2, then Lua

Lua code never waits on Temporal itself: a blocking call parks its coroutine and starts a
workflow task (`wf_modules/commands.py`) whose outcome is posted to one of the four queues
of the batch order. Signals, timer fires, child exits, update requests and the cancel
request are posted the same way. Lua therefore runs only inside `step`, in an order that
depends on history alone, and replays identically.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

import attrs
from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.workflow import HandlerUnfinishedPolicy

from actors import errors
from actors.errors import ActorError, Error, InvalidError
from actors.messages import CANCEL, Event, Message
from actors.pid import PID, SYSTEM
from actors.registry import Entry
from corelib import gotime
from corelib.gotime import UTC, GoTime
from lua_bindings.channels import KERNEL
from lua_bindings.contract import Reply, reply
from lua_bindings.convert import text
from lua_bindings.host import LuaHost
from lua_bindings.modules.time import Action
from lua_bindings.plugin import lua_app
from lua_bindings.process import LuaProcess
from lua_bindings.scheduler import Scheduler, Waiter, lua_values
from lua_bindings.state import LuaState
from temporal_host import diagnosis, limits, protocol
from temporal_host.diagnosis import WorkflowTaskFailure
from temporal_host.interceptors import (
    SIGNAL_SENDER,
    START_HEADER,
    Header,
    outbound,
    settings_of_workflow,
)
from temporal_host.limits import Warnings
from temporal_host.meta import TemporalMeta
from temporal_host.wf_modules import ALLOWED, OVERRIDES
from temporal_host.wf_modules.commands import Commands, Phase, Wake, encode
from temporal_host.wf_modules.workflow import info_table

if TYPE_CHECKING:
    from temporalio.worker._workflow_instance import _WorkflowInstanceImpl

    from temporal_host.settings import WorkerSettings

WORKFLOW_KINDS = ("workflow.lua",)


# -- the Lua side: scheduler, clock, state, host ---------------------------------------------


_ALL = 1 << 30
"""A batch without limit: a workflow task runs its Lua until every coroutine is blocked."""

Boot = tuple[LuaProcess, tuple[Any, ...]]
"""A run's process and `boot_run`'s arguments after the budget (`WorkflowRun.start`)."""


class WorkflowScheduler(Scheduler):
    """The stock scheduler, stepped by the workflow instead of running as a task.

    `call_at` is only reached for "on the next turn" actions (timers already due, boot
    failures); real timers are durable and go through `WorkflowTimeSource`.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._due: deque[list[Any]] = deque()

    def call_at(self, deadline: float, action: Waiter | Callable[[], None]) -> list[Any]:
        entry = [deadline, 0, action]
        self._due.append(entry)
        return entry

    quiet = False
    """The last `wake_run` left the state quiet (`rt.quiet`). Once quiet, a state stays so
    until a process is booted in it, which only a run bound to the host does (`bind` clears
    this), so `idle` need not ask Lua again."""

    @property
    def idle(self) -> bool:
        """No process context left, nothing ready, nothing due, no task running: the state
        may serve another run."""
        return not self._due and (self.quiet or bool(self._kernel().quiet()))

    wake_run: Any
    """wf_env.lua's `wake_run`, set by the host."""
    boot_run: Any
    """wf_env.lua's `boot_run`, set by the host."""
    exited: Callable[[int, bool, Any, Any], object]
    """The host's `_finished`, for the exit `wake_run` hands back (set by the host)."""
    seed: int | None = None
    """The run's seed for `math.random`, which the next `wake_run` applies (the run's first:
    no workflow code runs before it)."""
    deferring = False
    """True while Python makes a call a task deferred (`_wake_and_run`)."""

    def defer_wake(self, wake: Wake, wakes: list[Any]) -> None:
        """Fire `wake`'s waiter as `Waiter.fire` and `resume` do, but append the kernel's
        `wake` arguments (context, task, count, values...) to `wakes` instead of calling it:
        `run_ready` or `wake_now` passes them to Lua."""
        waiter = wake.waiter
        if waiter.done:
            return
        waiter.done = True
        self.defer_resume(waiter.process, waiter.task, wake.values, wakes)

    def defer_resume(
        self, process: LuaProcess, task: int, values: Sequence[Any], wakes: list[Any]
    ) -> None:
        """`resume(process, task, values)`, but appended to `wakes` for `run_ready`."""
        if not process.alive:
            return
        values = lua_values(self._kernel(), values)
        wakes += (process.lua_context, task, len(values), *values)

    def wake_now(self, wakes: list[Any]) -> None:
        """Apply deferred wakes now, in their order (before anything else calls Lua)."""
        wake, i = self._kernel().wake, 0
        while i < len(wakes):
            n = wakes[i + 2]
            wake(wakes[i], wakes[i + 1], *wakes[i + 3 : i + 3 + n])
            i += 3 + n
        wakes.clear()

    def _wake_and_run(self, wakes: Sequence[Any] = (), boot: Boot | None = None) -> bool:
        """`wake_now` and `run_batch` in one call into Lua, then the call a task deferred
        (`rt.defer_call`, wf_env.lua), made here before any other Lua code runs: its
        immediate answer resumes that task first. True when something is ready. With
        `boot`, the process is made in the same call (`boot_run`) and `wakes` is empty."""
        state = self._kernel()
        outer, KERNEL.state = KERNEL.state, state
        try:
            seed, self.seed = self.seed, None
            if boot is None:
                result = self.wake_run(seed, _ALL, *wakes)
            else:
                process, spec = boot
                main, *result = self.boot_run(process.lua_context, seed, _ALL, *spec)
                process.main_task = main
            ready, self.quiet, exited, returned, a, b, *deferred = result
            if exited is not None:
                self.exited(exited, returned, a, b)
            if not deferred:
                return bool(ready)
            call, context, task, *args = deferred
            self.deferring = True
            try:
                answer = call(context, task, *args)
            finally:
                self.deferring = False
            if answer[0] == 0:
                return bool(ready)
            state.wake_first(context, task, *lua_values(state, answer[1:]))
            return True
        finally:
            KERNEL.state = outer

    def run_ready(self, wakes: list[Any] | None = None, boot: Boot | None = None) -> None:
        """Apply `wakes` (deferred by `defer_wake`), or make `boot`'s process, and run every
        ready coroutine until all are blocked, then the due actions, and again until
        nothing is left (an action may make a coroutine ready)."""
        while True:
            ready = self._wake_and_run(wakes or (), boot)
            wakes = boot = None
            while ready:
                ready = self._wake_and_run()
            if not self._due:
                return
            due, self._due = self._due, deque()
            for _, _, action in due:
                if isinstance(action, Waiter):
                    action.fire()
                elif action is not None:
                    action()

    async def run(self, spawn_async: Callable[..., None]) -> None:
        raise RuntimeError("a workflow's scheduler is stepped by its workflow")


class DurableTimer:
    """A pending `call_at` of the time module: a Temporal timer (an asyncio sleep in the
    workflow). `cancel` cancels the Temporal timer, and a fire already queued is dropped."""

    __slots__ = ("action", "cancelled", "task")

    def __init__(self, action: Action) -> None:
        self.action = action
        self.cancelled = False
        self.task: asyncio.Task[None] | None = None

    def fire(self) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        if isinstance(self.action, Waiter):
            self.action.fire()
        else:
            self.action()

    def cancel(self) -> None:
        self.cancelled = True
        if self.task is not None and not self.task.done():
            self.task.cancel()


class WorkflowTimeSource:
    """The time module's clock and timers in a workflow (§7): workflow time, durable timers.

    `time.sleep` completions belong to the first phase of the batch, fires of `after`,
    `timer` and `ticker` to the second (they are messages on a channel), as §5.2 orders.
    """

    def __init__(self, run: WorkflowRun) -> None:
        self.run = run

    def now(self) -> GoTime:
        return GoTime(workflow.time_ns(), UTC)

    def monotonic_ns(self) -> int:
        return workflow.time_ns()

    def call_at(self, deadline_ns: int, action: Action) -> DurableTimer:
        timer = DurableTimer(action)
        delay = deadline_ns - workflow.time_ns()
        if delay <= 0:
            self.run.host.scheduler.call_at(0, timer.fire)
            return timer
        phase = Phase.COMPLETION if isinstance(action, Waiter) else Phase.MESSAGE
        run = self.run

        async def sleep() -> None:
            await asyncio.sleep(delay / 1e9)
            run.post(phase, timer.fire)

        timer.task = asyncio.create_task(sleep())
        return timer

    def cancel(self, handle: DurableTimer) -> None:
        handle.cancel()


def refusal(module: str) -> str:
    """Why `require(module)` fails in workflow code (the module is listed but not allowed)."""
    return (
        f'module "{module}" cannot be used in a workflow: it is not deterministic (a replay '
        "would not see the same results); do this work in an activity (a function.lua entry "
        "with meta.temporal.activity, called with funcs.call)"
    )


class WorkflowLuaState(LuaState):
    """A Lua state with the module allow-list of §8.2 applied at `require` time."""

    def spec(self, entry: Entry, refused: dict[str, str] | None = None) -> Any:
        names = entry.data.get("modules") or ()
        listed = [name for name in names if name in ALLOWED]
        filtered = attrs.evolve(entry, data={**entry.data, "modules": listed})
        return super().spec(
            filtered, {name: refusal(name) for name in names if name not in ALLOWED}
        )

    def _load_module(self, name: bytes) -> Any:
        # Also covers modules loaded behind globals (`subscribe` needs `events`).
        key = text(name)
        if key not in ALLOWED:
            return False
        return super()._load_module(name)


class WorkflowLuaHost(LuaHost):
    """The Lua host of a run: one process, the workflow; never attached to the node.

    A host outlives its run: `bind` hands it to a run, which boots its process in a fresh
    context, and `unbind` ends the run's hold and says whether the run left the state clean
    enough to serve the next run of the same entry (`host_for`, `WorkflowRun.close`,
    temporal_host/states.py).
    """

    run: WorkflowRun
    scheduler: WorkflowScheduler
    scheduler_class = WorkflowScheduler
    state_class = WorkflowLuaState
    cpu_budget = 1.5  # below the SDK's deadlock detector (about 2 s per workflow task)
    event_zone = UTC  # the same on every replay

    def __init__(self, settings: WorkerSettings) -> None:
        super().__init__(
            settings.worker_id,
            lua_app(settings.runtime),
            kinds=WORKFLOW_KINDS,
            modules=OVERRIDES,
        )
        self._started_ns = 0
        self._unbound_time_source = self.time_source
        scheduler = self.scheduler
        scheduler.wake_run, self.deferred_thread, scheduler.boot_run = self.state.run_module_source(
            _env_source(), "=[workflow env]", self.state.rt, self.lua(self._env_functions())
        )
        scheduler.exited = self._finished
        self.next_context = int(self.state.rt.next_context())
        """The number the state gives the next process context (`boot_and_run`)."""

    def bind(self, run: WorkflowRun) -> None:
        """Serve `run`: its clock, timers, randomness and commands from now on. The first
        draw of the run's deterministic randomness seeds `math.random`, drawn at the same
        point of every replay and applied with the run's first step."""
        self.run = run
        self.time_source = WorkflowTimeSource(run)
        self._started_ns = run.runtime.workflow_time_ns()
        self.scheduler.seed = run.runtime.workflow_random().getrandbits(62)
        self.scheduler.quiet = False

    def unbind(self) -> bool:
        """The run is over: forget it (an idle host must not keep a finished run's queues
        and commands alive). True when the state is clean enough for another run: no
        process context left and nothing queued."""
        del self.run
        self.time_source = self._unbound_time_source
        return self.scheduler.idle

    def random_bytes(self, n: int) -> bytes:
        """Deterministic randomness for `uuid` (the `crypto` module records its own)."""
        return workflow.random().randbytes(n)

    def finish(
        self, process: LuaProcess, value: Any, error: Error | None, kernel_drops: bool = False
    ) -> None:
        if process.alive:
            process.alive = False
            self.run.finished(value, error)
        process.close(kernel_drops)

    async def start(self) -> None:
        raise RuntimeError("a workflow host is not a node host")

    def booted(self, process: LuaProcess, context: int, main: int) -> None:
        super().booted(process, context, main)
        self.next_context = context + 1

    def boot_and_run(self, process: LuaProcess, spec: tuple[Any, ...], args: Sequence[Any]) -> None:
        """Make the run's process (`spec`: `LuaState.process_spec`) and run main until it
        blocks, in one call into Lua (`boot_run`); the process is recorded first under the
        number its context gets."""
        self.booted(process, self.next_context, 0)
        self.scheduler.run_ready(boot=(process, (*spec, *lua_values(self.state, args))))

    def _env_functions(self) -> dict[str, Any]:
        """The Python half of wf_env.lua: workflow clock, byte-order sorting."""
        return {
            "now_ns": workflow.time_ns,
            "elapsed": lambda: (workflow.time_ns() - self._started_ns) / 1e9,
            # Lua compares strings with strcoll, which depends on the locale.
            "sort_strings": lambda strings: self.lua(sorted(strings.values())),
            "os_time": _os_time,
        }


def host_for(settings: WorkerSettings, entry: Entry) -> WorkflowLuaHost:
    """An idle host of `entry` from the worker's pool, or a new one. A host made for
    another version of the app (a redeploy replaced the runtime's LuaApp) is dropped."""
    app = lua_app(settings.runtime)
    states = settings.states
    while (host := states.take(entry.id)) is not None:
        if host.app is app:
            return host
    states.made += 1
    return WorkflowLuaHost(settings)


@functools.cache
def _env_source() -> str:
    return resources.files(__package__).joinpath("wf_env.lua").read_text(encoding="utf-8")


def _os_time(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """`os.time{...}` read as UTC (the worker's time zone must not matter), normalising
    out-of-range fields as C `mktime` does."""
    return gotime.date(year, month, day, hour, minute, second, 0, gotime.UTC).unix()


# -- one run ---------------------------------------------------------------------------------

_PHASES = len(Phase)


@attrs.define
class UpdateState:
    """An Update in flight (§14.1): pending → accepted → completed. A completed update has
    a `value` (`ok`) or a `failure` (`nak`, `error`)."""

    state: str = "pending"
    value: Any = None
    failure: ApplicationError | None = None

    @property
    def done(self) -> bool:
        return self.state == "completed"


class WorkflowRun:
    """One run of a workflow: its Lua host and process, the event queues, the outcome."""

    def __init__(self, settings: WorkerSettings, entry: Entry, context: dict[str, Any]) -> None:
        self.runtime = runtime = cast("_WorkflowInstanceImpl", workflow._Runtime.current())
        """The SDK's workflow instance: the run, the pump and the history check call it
        directly, without the module functions' lookup of the running loop each time."""
        info = runtime.workflow_info()
        self.settings = settings
        self.entry = entry
        self.context = context
        self.pid = protocol.workflow_pid(settings.client_id, settings.worker_id, info.workflow_id)
        self._queues: tuple[deque[Callable[[], object]], ...] = tuple(
            [deque() for _ in range(_PHASES)]
        )
        self.outcome: tuple[Any, Error | None] | None = None
        self.continuation: tuple[str, list[RawValue]] | None = None
        """(workflow type, arguments) once `process.upgrade` was called."""
        self.cancel_requested = False
        self.updates: dict[str, UpdateState] = {}
        self._versions: dict[str, int] = {}
        self.history_warnings = Warnings(settings.history_limits)
        self._history_checked = -1
        """The history length `check_history` last looked at."""
        self.local_pending = 0
        self._pump_waiting = False
        """True while the pump waits in `events` (see `answer`)."""
        self._answer_failure: BaseException | None = None
        """What an answer applied at once raised, for the pump to raise."""
        diagnosis.remember_run(info.run_id, info.workflow_id)
        self.task_failure: WorkflowTaskFailure | None = None
        """Set when the run cannot go on with this code: the task fails, not the run."""
        """Local activities issued and not yet resolved (see `Commands.settled`)."""
        self.commands = Commands(self)
        self.host = host_for(settings, entry)
        self.host.bind(self)
        self.process = LuaProcess(
            self.pid, context=dict(context), host=self.host, entry=entry, state=self.host.state
        )

    # -- the pump -----------------------------------------------------------------------------

    def start(self, args: Sequence[Any]) -> None:
        """Instantiate the entry and run `main(args...)` until it blocks: in one call into
        Lua (`boot_and_run`), unless startup messages must reach the mailbox first
        (`_drive`), which needs the process's context before main runs."""
        host, process = self.host, self.process
        try:
            if process.mailbox.early is None:
                spec = host.state.process_spec(self.entry, str(self.pid), plain=not self.context)
            else:
                host.boot(process)
        except ActorError as exc:
            # A workflow that cannot load fails (its monitors get EXIT) instead of failing
            # its task on every retry forever (issue 12 item 6).
            error = Error(
                f"cannot load {self.entry.id}: {exc.error.message}", errors.INVALID, False
            )
            raise protocol.application_error(error) from None
        if process.lua_context:  # booted: the startup messages are in its mailbox
            scheduler = host.scheduler
            wakes: list[Any] = []
            scheduler.defer_resume(process, process.main_task, args, wakes)
            scheduler.run_ready(wakes)  # one call into Lua starts main and runs it
        else:
            host.boot_and_run(process, spec, args)
        self.raise_task_failure()

    def post(self, phase: Phase, action: Callable[[], object]) -> None:
        self._queues[phase].append(action)

    def has_events(self) -> bool:
        """What the pump waits for: an event to apply, or the end of the run (reached by
        an answer applied outside the pump, `answer`)."""
        return any(self._queues) or self.done or self._answer_failure is not None

    async def events(self) -> None:
        """Wait until something is posted (or the run ended outside the pump, `answer`):
        `workflow.wait_condition(self.has_events)` without what it adds per call for
        timeouts, summaries and event groups (a copied context, two coroutines, metadata),
        none of which the pump uses. The condition sits
        on the SDK instance's list like wait_condition's, so it is checked at the same
        point (once the workflow's ready callbacks are drained) and the pump wakes at the
        same point of every replay; cancellation reaches the awaiting task the same way."""
        runtime = self.runtime
        future = runtime.create_future()
        runtime._conditions.append((self.has_events, future))
        self._pump_waiting = True
        try:
            await future
        finally:
            self._pump_waiting = False

    def step(self) -> None:
        """Apply the queued events in batch order, then run Lua until it blocks. Answers
        (`Wake`) are passed to Lua with the run that follows them, in one call; any other
        event first applies the answers before it, so Lua sees everything in queue order."""
        scheduler = self.host.scheduler
        wakes: list[Any] = []
        for queue in self._queues:
            while queue:
                action = queue.popleft()
                if type(action) is Wake:
                    scheduler.defer_wake(action, wakes)
                else:
                    if wakes:
                        scheduler.wake_now(wakes)
                    action()
        scheduler.run_ready(wakes)
        self.raise_task_failure()

    def answer(self, phase: Phase, wake: Wake) -> None:
        """Apply an answer (an activity's result, from its handle's done callback): at once
        when it is the only thing this workflow task brings, else posted to `phase`.

        It is alone when the pump waits for events, nothing is queued, and nothing else is
        ready in the SDK's event loop: every job of the task has been applied before its
        callbacks run, so no other event can still be posted before the loop checks the
        pump's condition, and the step the pump would then make (this answer, then Lua
        until it blocks) is the one made here, at the same point of the task, without
        the post, the condition, the future and the pump's wake-up (the twin in Python
        pays one coroutine wake-up here; docs/performance.md, "Replay, fourth pass"). The
        pump still ends the run or raises a failure: it waits for either too
        (`has_events`, `ended_by_answer`), and wakes in the same workflow task. Reads the
        SDK instance's private `_ready` (temporalio 1.35), as `events` reads `_conditions`."""
        if not self._pump_waiting or self.runtime._ready or self.has_events():
            self.post(phase, wake)
            return
        try:
            self.post(phase, wake)
            self.step()  # the pump's step, with this answer alone in the queues
            self.check_history()
        except BaseException as exc:
            self._answer_failure = exc

    def ended_by_answer(self) -> bool:
        """For the pump, once awake: True when an answer applied at once (`answer`) ended
        the run; what such an answer raised is raised here, in the pump, as if the pump
        had applied it."""
        failure = self._answer_failure
        if failure is not None:
            self._answer_failure = None
            raise failure
        return self.done

    def close(self) -> None:
        """The run is over (or evicted): drop its context, and give the host back to the
        worker's pool when the run ended cleanly, so the next run of the entry skips making
        a Lua state. After a failed task or an eviction mid-run the host is dropped."""
        self.process.close()
        clean = self.host.unbind() and self.done and self.task_failure is None
        if clean:
            self.settings.states.give(self.entry.id, self.host)

    def raise_task_failure(self) -> None:
        if self.task_failure is not None:
            raise self.task_failure

    @property
    def done(self) -> bool:
        return self.outcome is not None or self.continuation is not None

    def check_history(self) -> None:
        """Warn (once per level and run) as the history nears Temporal's limits. Looked at
        only when the history grew since the last look (a workflow task can wake the pump
        more than once)."""
        runtime = self.runtime
        length = runtime.workflow_get_current_history_length()
        if length == self._history_checked:
            return
        self._history_checked = length
        self.history_warnings.check(
            workflow.logger,
            self.pid.id,
            length,
            runtime.workflow_get_current_history_size(),
        )

    def finished(self, value: Any, error: Error | None) -> None:
        self.outcome = (value, error)

    def upgrade(self, workflow_type: str, args: list[RawValue]) -> None:
        """Stop the Lua code now (nothing after this point may issue commands) and
        continue as new when the step ends."""
        self.continuation = (workflow_type, args)
        self.process.alive = False

    def result(self) -> RawValue:
        """The workflow's completion (§12.3, §15.5), or its continuation as new."""
        if self.continuation is not None:
            workflow_type, args = self.continuation
            with outbound(Header(self.context)):
                workflow.continue_as_new(args=args, workflow=workflow_type)
        assert self.outcome is not None
        value, error = self.outcome
        if error is None:
            try:
                return RawValue(encode(value))
            except ActorError as exc:
                raise protocol.application_error(exc.error) from None
        if error.kind == errors.CANCELED and self.cancel_requested:
            raise asyncio.CancelledError(error.message)
        raise protocol.application_error(error)

    # -- incoming ---------------------------------------------------------------------------------

    def deliver_message(self, topic: str, value: Any, sender: PID | None) -> None:
        mailbox = self.process.mailbox
        mailbox.deliver(Message(topic, value, sender))
        self._check_queue("messages", mailbox.pending_messages(), limits.QUEUE_WARNING_MESSAGES)

    def deliver_event(self, event: Event, *, at_now: bool = False) -> None:
        if at_now:
            event = attrs.evolve(event, at=workflow.time_ns())
        mailbox = self.process.mailbox
        mailbox.deliver_event(event)
        self._check_queue("events", mailbox.pending_events(), limits.QUEUE_WARNING_EVENTS)

    def _check_queue(self, what: str, pending: int, step: int) -> None:
        """§18: nothing is dropped, but each multiple of `step` waiting is worth a warning."""
        if pending and pending % step == 0:
            workflow.logger.warning(
                "workflow %s: %d %s waiting to be received (the mailbox is unbounded; "
                "nothing is dropped)",
                workflow.info().workflow_id,
                pending,
                what,
            )

    def signal(self, topic: str, values: list[Any], sender: str | None) -> None:
        """A signal becomes a message (§4.2): nil / the value / the array of values."""
        value = None if not values else values[0] if len(values) == 1 else values
        self.post(Phase.MESSAGE, lambda: self.deliver_message(topic, value, _sender_pid(sender)))

    def request_cancel(self, reason: str) -> None:
        """A Temporal cancel request: a CANCEL event the Lua code may act on (§12.3)."""
        self.cancel_requested = True
        self.post(
            Phase.MESSAGE,
            lambda: self.deliver_event(Event(CANCEL, SYSTEM, reason=reason), at_now=True),
        )

    def begin_update(self, update_id: str, name: str, values: list[Any]) -> UpdateState:
        state = self.updates[update_id] = UpdateState()
        value = None if not values else values[0] if len(values) == 1 else values
        sender = PID(host="update", id=update_id)
        self.post(Phase.UPDATE, lambda: self.deliver_message(name, value, sender))
        return state

    def update_reply(self, update_id: str, verb: str, value: Any) -> Reply:
        """`process.send({update|id}, verb, payload)` from Lua (§14.1)."""
        state = self.updates.get(update_id)
        allowed = {"ack": ("pending",), "nak": ("pending",)}.get(verb, ("pending", "accepted"))
        if state is None or verb not in ("ack", "nak", "ok", "error") or state.state not in allowed:
            current = state.state if state is not None else "unknown"
            return reply.failed(
                InvalidError(f"update {update_id}: cannot {verb} in state {current}")
            )
        if verb == "ack":
            state.state = "accepted"
            return reply.now(True)
        state.state = "completed"
        if verb == "ok":
            state.value = value
        else:
            # A nak fails the update rather than rejecting it: Temporal decides acceptance
            # in the validator, before Lua sees the update (§14.1, our choice).
            message = value if isinstance(value, str) else str(value)
            state.failure = ApplicationError(
                message, type="UpdateRejected" if verb == "nak" else "UpdateFailed"
            )
        return reply.now(True)

    # -- the workflow module ----------------------------------------------------------------------

    def version(self, change_id: str, min_supported: int, max_supported: int) -> int:
        """`workflow.version` on boolean patches (§13): the first execution records
        `max`; a replay finds the recorded one; memoised per change ID for the run."""
        if min_supported > max_supported:
            raise InvalidError("workflow.version: min_supported > max_supported")
        version = self._versions.get(change_id)
        if version is None:
            if not workflow.unsafe.is_replaying():
                workflow.patched(f"{change_id}#v{max_supported}")
                version = max_supported
            else:
                found = next(
                    (
                        v
                        for v in range(max_supported, min_supported - 1, -1)
                        if workflow.patched(f"{change_id}#v{v}")
                    ),
                    None,
                )
                if found is None:
                    recorded = _recorded_versions(change_id)
                    message = (
                        f"unsupported version {recorded or 'none recorded'} of change "
                        f"{change_id}: this code supports {min_supported}..{max_supported}"
                    )
                    # Not the workflow's failure: the task fails until a deploy supports
                    # the recorded version (issue 12 item 11).
                    self.task_failure = WorkflowTaskFailure(message)
                    raise InvalidError(message)
                version = found
            self._versions[change_id] = version
        return version


def _recorded_versions(change_id: str) -> str:
    """The versions of `change_id` the history recorded ("3", "2, 3"), or ""."""
    prefix = f"{change_id}#v"
    notified = getattr(workflow._Runtime.current(), "_patches_notified", ())
    versions = sorted(int(p[len(prefix) :]) for p in notified if p.startswith(prefix))
    return ", ".join(map(str, versions))


def _sender_pid(sender: str | None) -> PID | None:
    if sender is None:
        return None
    try:
        return PID.parse(sender)
    except ActorError:
        workflow.logger.warning("ignoring a signal sender that is not a PID: %r", sender)
        return None


def _values(args: Sequence[RawValue]) -> list[Any]:
    return [protocol.decode_payload(arg.payload) for arg in args]


# -- entries -----------------------------------------------------------------------------------


def resolve_entry(settings: WorkerSettings, workflow_type: str) -> Entry:
    """The entry serving `workflow_type` on this worker: the entry ID or its custom
    `meta.temporal.workflow.name`. An unknown type fails the workflow (`NotFound`): a task
    retried forever would leave its monitors waiting (issue 12 item 6). A type that is an
    entry ID is checked once per entry: while the registry holds the same entry object
    (a redeploy or an edit makes a new one), the answer is the same."""
    registry = settings.runtime.app.registry
    by_id = registry.get(workflow_type)
    if by_id is not None and settings.workflow_entries.get(workflow_type) is by_id:
        return by_id

    def candidates() -> Iterator[Entry | None]:
        # The entry ID is the usual type: the scan for a custom name only when it is not.
        yield by_id
        yield from registry.by_kind("workflow.")

    for entry in candidates():
        if entry is None or entry.kind not in WORKFLOW_KINDS:
            continue
        try:
            meta = TemporalMeta.of(entry)
        except ActorError:
            continue  # reported when the app was loaded
        if (
            workflow_type in (entry.id, meta.workflow_type)
            and meta.workflow_worker == settings.worker_id
        ):
            if entry is by_id:
                settings.workflow_entries[workflow_type] = entry
            return entry
    raise protocol.application_error(
        Error(
            f"workflow type {workflow_type!r} is not registered on {settings.worker_id}",
            errors.NOT_FOUND,
            False,
        )
    )


# -- the Temporal workflow -------------------------------------------------------------------


_CORE_CANCEL_REASON = re.compile(
    r"Cancel requested by workflow with run id \S+ with reason: (.*)", re.DOTALL
)


def canceller_reason(reason: str) -> str:
    """The reason the canceller gave. A cancel from another workflow reaches us rewritten by
    the SDK core ("Cancel requested by workflow with run id <id> with reason: <reason>")."""
    match = _CORE_CANCEL_REASON.fullmatch(reason)
    return match.group(1) if match else reason


@workflow.defn(dynamic=True, sandboxed=False)
class LuaWorkflow:
    """Runs the `workflow.lua` entry named by the workflow type."""

    def __init__(self) -> None:
        self._run: WorkflowRun | None = None
        self._early: list[tuple[str, list[Any], str | None]] = []

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> RawValue:
        settings = settings_of_workflow()
        entry = resolve_entry(settings, workflow.info().workflow_type)
        context, _ = START_HEADER.get()
        try:
            values = _values(args)
        except ActorError as exc:
            error = Error(f"cannot decode the workflow input: {exc.error}", errors.INTERNAL, False)
            raise protocol.application_error(error) from None
        run = self._run = WorkflowRun(settings, entry, context)
        try:
            return await self._drive(run, values)
        finally:
            run.close()

    async def _drive(self, run: WorkflowRun, values: list[Any]) -> RawValue:
        for topic, signal_values, sender in self._early:
            run.signal(topic, signal_values, sender)
        self._early.clear()
        if run.has_events():
            run.step()  # startup signals are in the mailbox before main starts (§3.4)
        run.start(values)
        while not run.done:
            try:
                await run.events()
            except asyncio.CancelledError:
                reason = workflow.cancellation_reason()
                if reason is None or run.cancel_requested:
                    raise  # an eviction, or a second cancel: nothing for Lua to see
                run.request_cancel(canceller_reason(reason))
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
            if run.ended_by_answer():
                break
            run.step()
            run.check_history()
        if run.local_pending:
            # A local activity resolved after the completion command would follow it, which
            # the server rejects: let every one in flight be recorded first.
            await workflow.wait_condition(lambda: not run.local_pending)
        return run.result()

    @workflow.signal(dynamic=True, unfinished_policy=HandlerUnfinishedPolicy.ABANDON)
    def on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        if name.startswith("@"):
            # Anyone may signal; `@` topics carry runtime events and must not be forged
            # (defect 14).
            workflow.logger.warning("dropping signal %r: @ topics are reserved", name)
            return
        try:
            values = _values(args)
        except ActorError as exc:
            workflow.logger.warning("dropping signal %r: %s", name, exc.error.message)
            return
        sender = SIGNAL_SENDER.get()
        if self._run is None:
            self._early.append((name, values, sender))
        else:
            self._run.signal(name, values, sender)

    @workflow.query(dynamic=True)
    def on_query(self, name: str, args: Sequence[RawValue]) -> Any:
        """`pid` and `info` (§14.2); nothing else exists to be queried."""
        if name == "pid":
            settings = settings_of_workflow()
            wid = workflow.info().workflow_id
            return str(protocol.workflow_pid(settings.client_id, settings.worker_id, wid))
        if name == "info":
            return info_table()
        raise ApplicationError(f"unknown query: {name}", type=errors.INVALID)

    @workflow.update(dynamic=True, unfinished_policy=HandlerUnfinishedPolicy.ABANDON)
    async def on_update(self, name: str, args: Sequence[RawValue]) -> RawValue:
        """Delivered as a message from `{update|<id>}`; completed by the Lua reply (§14.1)."""
        try:
            values = _values(args)
        except ActorError as exc:
            raise protocol.application_error(exc.error) from None
        await workflow.wait_condition(lambda: self._run is not None)
        run = self._run
        assert run is not None
        update = workflow.current_update_info()
        assert update is not None
        state = run.begin_update(update.id, name, values)
        await workflow.wait_condition(lambda: state.done)
        if state.failure is not None:
            raise state.failure
        try:
            return RawValue(encode(state.value))
        except ActorError as exc:
            raise protocol.application_error(exc.error) from None

    @on_update.validator
    def validate_update(self, name: str, args: Sequence[RawValue]) -> None:
        if name.startswith("@"):
            raise ApplicationError(f"update {name!r}: @ names are reserved", type=errors.INVALID)
        if self._run is not None and self._run.done:
            raise ApplicationError(
                f"update {name!r}: the workflow has finished", type=errors.INVALID
            )
