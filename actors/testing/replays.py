"""Replay checks: does the app's current workflow code replay the histories of workflows
already in flight (or finished) without taking another path?

    from actors.testing import load_history, replay
    results = replay("myapp", [load_history("histories/order-42.json")])   # raises on a break

A history is what the Temporal CLI (`temporal workflow show -w ID --output json`) or the Web
UI (Download) export, a file saved by `actors test --record DIR`, or one fetched from a
server by workflow id (`fetch_history`). Each is replayed by a `Replayer` built like the
app's real worker (the same workflow class, interceptors and data converter). When the code
issues another command than the one the history recorded, `NondeterminismFound` names the
workflow, the recorded and the replayed command, the Lua line that issued it, and the
`workflow.version` guard that would keep old runs on the old path.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import attrs
import temporalio.worker
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import (
    SignalExternalWorkflowInput,
    StartActivityInput,
    StartChildWorkflowInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowOutboundInterceptor,
)

from actors import errors
from actors.errors import ActorError, Error
from actors.runtime import AppRuntime
from temporal_host import protocol, sdk_logs
from temporal_host.driver import WorkflowRun
from temporal_host.meta import TemporalMeta
from temporal_host.settings import WorkerSettings
from temporal_host.worker import build_replayer

Outcome = tuple[str, Any]
"""("completed", value), ("failed", (kind, message)) or ("canceled", None)."""


# -- histories ---------------------------------------------------------------------------------


@attrs.frozen
class History:
    """One workflow's history and where it came from."""

    workflow_id: str
    history: WorkflowHistory
    source: str = ""

    @property
    def workflow_type(self) -> str:
        started = self.history.events[0].workflow_execution_started_event_attributes
        return started.workflow_type.name

    @property
    def task_queue(self) -> str:
        started = self.history.events[0].workflow_execution_started_event_attributes
        return started.task_queue.name


def load_history(path: str | Path, workflow_id: str | None = None) -> History:
    """A history file: `{"events": [...]}` as the Temporal CLI and Web UI export it (the
    workflow id is then `workflow_id` or the file's stem), or `{"workflow_id", "history"}` as
    `actors test --record` saves it."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise errors.invalid(f"{path}: not a JSON history: {exc}") from None
    if isinstance(document, dict) and "history" in document:
        workflow_id = workflow_id or document.get("workflow_id")
        document = document["history"]
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise errors.invalid(f"{path}: no 'events' list (export one with the Temporal CLI or UI)")
    if not document["events"]:
        raise errors.invalid(f"{path}: the history has no events")
    workflow_id = workflow_id or path.stem
    return History(workflow_id, WorkflowHistory.from_json(workflow_id, document), str(path))


def save_history(history: History, directory: str | Path, name: str | None = None) -> Path:
    """Write `history` as `DIRECTORY/NAME.json` (default: the workflow id), in the format
    `load_history` reads back."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", name or history.workflow_id).strip("_") or "workflow"
    path = directory / f"{stem}.json"
    document = {
        "workflow_id": history.workflow_id,
        "workflow_type": history.workflow_type,
        "history": json.loads(history.history.to_json()),
    }
    path.write_text(json.dumps(document, indent=1) + "\n")
    return path


async def record_histories(runtime: AppRuntime, directory: str | Path) -> list[Path]:
    """Save the history of every workflow on the booted app's Temporal servers (under
    `actors test`, an in-memory server: the workflows the tests ran). Files are named by
    workflow type, numbered in start order (`app_order-2.json`), so a re-recording of the
    same tests rewrites the same files."""
    saved: list[Path] = []
    counts: dict[str, int] = {}
    for client in _clients(runtime):
        executions = [e async for e in client.list_workflows()]
        executions.sort(key=lambda e: (e.start_time, e.id))
        for execution in executions:
            handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
            history = History(execution.id, await handle.fetch_history())
            counts[execution.workflow_type] = counts.get(execution.workflow_type, 0) + 1
            n = counts[execution.workflow_type]
            name = execution.workflow_type + (f"-{n}" if n > 1 else "")
            saved.append(save_history(history, directory, name))
    return saved


def _clients(runtime: AppRuntime) -> list[Client]:
    """The Temporal clients of the booted app's hosts, each once."""
    clients: dict[int, Client] = {}
    for host in runtime.node.hosts.values():
        connection = getattr(host, "connection", None)
        if connection is not None:
            clients.setdefault(id(connection.client), connection.client)
    return list(clients.values())


async def fetch_history(
    address: str, workflow_id: str, *, namespace: str = "default", run_id: str | None = None
) -> History:
    """The history of a workflow on the server at `address` (its latest run by default)."""
    client = await Client.connect(address, namespace=namespace)
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    return History(workflow_id, history, f"{address}/{namespace}/{workflow_id}")


# -- what a replay found -----------------------------------------------------------------------


@attrs.frozen
class Command:
    """A command the replayed code issued, and the Lua line that issued it."""

    description: str
    location: str | None = None
    """`file.lua:LINE`, when the code was Lua of the app."""


@attrs.frozen
class Divergence:
    """The first place where the replayed code left the recorded path."""

    history: History
    message: str
    """The Temporal SDK's own words."""
    event_id: int | None = None
    recorded: str | None = None
    """The command the history recorded at that point."""
    replayed: Command | None = None
    """The command the current code issued instead (None: it issued none)."""
    source_line: str | None = None

    def __str__(self) -> str:
        h = self.history
        at = f" at event {self.event_id}" if self.event_id else ""
        lines = [f"workflow {h.workflow_id!r} ({h.workflow_type}) does not replay{at}"]
        if h.source:
            lines[0] += f" [{h.source}]"
        lines.append(f"  recorded: {self.recorded or 'no further command'}")
        if self.replayed is not None:
            where = f", issued at {self.replayed.location}" if self.replayed.location else ""
            lines.append(f"  replayed: {self.replayed.description}{where}")
            if self.source_line:
                lines.append(f"      {self.source_line}")
        else:
            lines.append("  replayed: no command at this point")
        lines.append(f"  Temporal: {self.message}")
        lines.append(
            "  to change this safely for workflows in flight, keep the old path for them:\n"
            '      if workflow.version("<change-id>", 1, 2) == 1 then\n'
            f"          -- the old path (recorded: {self.recorded or 'nothing more'})\n"
            "      else\n"
            "          -- the new code\n"
            "      end"
        )
        return "\n".join(lines)


@attrs.frozen
class ReplayResult:
    history: History
    outcome: Outcome | None
    """What the Lua code reached in the replay (None: it did not finish)."""
    divergence: Divergence | None = None

    @property
    def ok(self) -> bool:
        return self.divergence is None

    @property
    def recorded_outcome(self) -> Outcome | None:
        return recorded_outcome(self.history.history)


class NondeterminismFound(AssertionError):
    """At least one history does not replay against the current code."""

    def __init__(self, divergences: Sequence[Divergence]) -> None:
        self.divergences = list(divergences)
        super().__init__("\n\n".join(str(d) for d in self.divergences))


def recorded_outcome(history: WorkflowHistory) -> Outcome | None:
    """How the recorded run ended; None when it had not (a pending timer, termination)."""
    last = history.events[-1]
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        payloads = last.workflow_execution_completed_event_attributes.result.payloads
        return "completed", protocol.from_payload(payloads[0])
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        failure = last.workflow_execution_failed_event_attributes.failure
        return "failed", (failure.application_failure_info.type, failure.message)
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        return "canceled", None
    return None


# -- replaying ---------------------------------------------------------------------------------


def replay(
    app_dir: str | Path,
    histories: Iterable[History | str | Path],
    *,
    overrides: Sequence[str] = (),
    check: bool = True,
) -> list[ReplayResult]:
    """Replay each history against the app's current code (files are `load_history`-ed).
    With `check`, raise `NondeterminismFound` when any of them diverges."""
    loaded = [h if isinstance(h, History) else load_history(h) for h in histories]
    results = anyio.run(replay_async, Path(app_dir), loaded, list(overrides))
    failed = [r.divergence for r in results if r.divergence is not None]
    if check and failed:
        raise NondeterminismFound(failed)
    return results


async def replay_async(
    app_dir: Path, histories: Sequence[History], overrides: Sequence[str] = ()
) -> list[ReplayResult]:
    """`replay` inside an event loop; never raises on a divergence, it reports it."""
    runtime = AppRuntime.load(app_dir, overrides=list(overrides), settings={"command_mode": True})
    runtime.check()
    sdk_logs.install()
    results = [await _replay_one(runtime, history) for history in histories]
    _REPORTED.messages.update(r.divergence.message for r in results if r.divergence)
    return results


class _ReportedDivergences(logging.Filter):
    """Drops the core's warning of a failing workflow task whose divergence a replay has
    reported already (forwarded core logs arrive later, so a filter rather than a level)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage().replace("\\", "")
        return not any(message in text for message in self.messages)


_REPORTED = _ReportedDivergences()
logging.getLogger(sdk_logs.CORE_LOGGER).addFilter(_REPORTED)


async def _replay_one(runtime: AppRuntime, history: History) -> ReplayResult:
    worker_id, client_id = _worker_of(runtime, history.workflow_type)
    client = runtime.app.registry.get(client_id)
    namespace = (client.data.get("namespace") if client else None) or "default"
    settings = WorkerSettings.create(runtime, None, client_id, worker_id, history.task_queue)
    tracer = _CommandTracer()
    replayer = build_replayer(settings, namespace=namespace, extra_interceptors=[tracer])
    with _outcomes() as outcomes:
        result = await replayer.replay_workflow(history.history, raise_on_replay_failure=False)
    outcome = outcomes.get(history.history.workflow_id)
    failure = result.replay_failure
    if failure is None:
        return ReplayResult(history, outcome)
    divergence = _divergence(runtime, history, _sdk_message(failure), tracer.commands)
    return ReplayResult(history, outcome, divergence)


def _worker_of(runtime: AppRuntime, workflow_type: str) -> tuple[str, str]:
    """(worker id, client id) serving `workflow_type` in the app."""
    registry = runtime.app.registry
    for entry in [registry.get(workflow_type), *registry.by_kind("workflow.")]:
        if entry is None or not entry.kind.startswith("workflow."):
            continue
        try:
            meta = TemporalMeta.of(entry)
        except ActorError:
            continue
        if workflow_type in (entry.id, meta.workflow_type) and meta.workflow_worker:
            worker = registry.get(meta.workflow_worker)
            if worker is not None:
                return worker.id, entry.resolve_ref(worker.data["client"])
    raise errors.not_found(f"no workflow entry of type {workflow_type!r} in the app")


@contextlib.contextmanager
def _outcomes() -> Iterator[dict[str, Outcome]]:
    """The outcome each replayed run's Lua code reached, by workflow ID (the driver has no
    hook for it: `WorkflowRun.finished` is wrapped for the duration)."""
    seen: dict[str, Outcome] = {}
    original = WorkflowRun.finished

    def finished(run: WorkflowRun, value: Any, error: Error | None) -> None:
        seen[workflow.info().workflow_id] = _outcome(run, value, error)
        original(run, value, error)

    WorkflowRun.finished = finished  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        WorkflowRun.finished = original  # type: ignore[method-assign]


def _outcome(run: WorkflowRun, value: Any, error: Error | None) -> Outcome:
    if error is None:
        return "completed", protocol.from_payload(protocol.to_payload(value))
    if error.kind == errors.CANCELED and run.cancel_requested:
        return "canceled", None
    return "failed", (error.kind, error.message)


# -- finding the command and its Lua line ------------------------------------------------------


class _CommandTracer(temporalio.worker.Interceptor):
    """Notes every command the replayed code issues, with the Lua line that issued it."""

    def __init__(self) -> None:
        self.commands: list[Command] = []

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        tracer = self

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(_Outbound(outbound, tracer))

        return Inbound


class _Outbound(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, tracer: _CommandTracer) -> None:
        super().__init__(next)
        self.tracer = tracer

    def _note(self, description: str) -> None:
        self.tracer.commands.append(Command(description, _lua_location()))

    def start_activity(self, input: StartActivityInput) -> Any:
        self._note(f"activity {input.activity}")
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> Any:
        self._note(f"local activity {input.activity}")
        return super().start_local_activity(input)

    async def start_child_workflow(self, input: StartChildWorkflowInput) -> Any:
        self._note(f"child workflow {input.workflow}")
        return await super().start_child_workflow(input)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        self._note(f"signal {input.signal}")
        return await super().signal_external_workflow(input)


_FIND = """
for level = 1, 60 do
  local info = debug.getinfo(level, "Sl")
  if info == nil then return nil end
  local src = info.short_src or ""
  if info.currentline and info.currentline > 0 and src:sub(1, 1) ~= "["
      and src:match("%.lua$") then
    return src .. ":" .. info.currentline
  end
end
return nil
"""


_FIND_IN = _FIND.replace("debug.getinfo(level", "debug.getinfo(co, level").replace(
    "for level = 1", "local co = ...\nfor level = 0"
)
"""The same in a suspended coroutine's stack."""


def _lua_location() -> str | None:
    """`file.lua:LINE` of the app's Lua code that is running now (it called into Python to
    issue the command): lupa runs this chunk on the calling coroutine, so its stack is the
    Lua code's own. A call the task deferred (`funcs.call`, made by Python once the kernel
    stopped: temporal_host/wf_env.lua) is looked for in the parked coroutine's stack.
    Module chunks (`[module funcs]`) are skipped."""
    try:
        run: WorkflowRun | None = workflow.instance()._run
        if run is None:
            return None
        host = run.host
        if host.scheduler.deferring:
            found = host.state.runtime.execute(_FIND_IN, host.deferred_thread())
        else:
            found = host.state.runtime.execute(_FIND)
    except Exception:  # introspection only: never let it break a replay
        return None
    return found.decode() if isinstance(found, bytes) else found


def _sdk_message(failure: BaseException) -> str:
    """The core's own sentence, without the activation-failure wrapping around it."""
    text = str(failure)
    inner = re.search(r'message: "((?:[^"\\]|\\.)*)"', text)
    return inner.group(1) if inner else text


_EVENT_ID = re.compile(r"(?:event[ _]?id|HistoryEvent\(id)[:= ]+(\d+)", re.IGNORECASE)


ALIGNED = ("activity ", "child workflow ", "signal ")
"""Commands both the tracer sees and the history records in the same order: timers and
cancel requests pass no interceptor, local activities and versions are recorded as markers."""


def _divergence(
    runtime: AppRuntime, history: History, message: str, commands: list[Command]
) -> Divergence:
    """Match the SDK's message with the history's commands and the ones the code issued."""
    match = _EVENT_ID.search(message)
    event_id = int(match.group(1)) if match else None
    events = [
        (event.event_id, text)
        for event in history.history.events
        if (text := describe_command_event(event)) is not None
    ]
    recorded_path = [text for _, text in events if text.startswith(ALIGNED)]
    replayed_path = [c for c in commands if c.description.startswith(ALIGNED)]
    # The first command of the aligned path the replay did not issue as recorded.
    first = next(
        (
            i
            for i, text in enumerate(recorded_path)
            if i >= len(replayed_path) or replayed_path[i].description != text
        ),
        None,
    )
    if first is None and len(replayed_path) > len(recorded_path):
        first = len(recorded_path)
    recorded = next((text for eid, text in events if event_id and eid >= event_id), None)
    if recorded is None and first is not None and first < len(recorded_path):
        recorded = recorded_path[first]
    if event_id is None and recorded is not None:
        event_id = next(eid for eid, text in events if text == recorded)
    replayed = replayed_path[first] if first is not None and first < len(replayed_path) else None
    if replayed is None and commands:
        replayed = commands[-1]  # the path left through a command the tracer cannot see
    source_line = _source_line(runtime, replayed.location) if replayed else None
    return Divergence(history, message, event_id, recorded, replayed, source_line)


def describe_command_event(event: HistoryEvent) -> str | None:
    """The command a history event records, in the words `Command.description` uses."""
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        return f"activity {event.activity_task_scheduled_event_attributes.activity_type.name}"
    if kind == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        attributes = event.start_child_workflow_execution_initiated_event_attributes
        return f"child workflow {attributes.workflow_type.name}"
    if kind == EventType.EVENT_TYPE_TIMER_STARTED:
        timeout = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        return f"timer ({timeout})"
    if kind == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        signal = event.signal_external_workflow_execution_initiated_event_attributes
        return f"signal {signal.signal_name}"
    if kind == EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        return "cancel request to another workflow"
    if kind == EventType.EVENT_TYPE_MARKER_RECORDED:
        return f"marker {event.marker_recorded_event_attributes.marker_name}"
    if kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        return "search attribute upsert"
    return _ENDINGS.get(kind)


_ENDINGS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "the workflow completes",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "the workflow fails",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "the workflow ends canceled",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "the workflow continues as new",
}


def _source_line(runtime: AppRuntime, location: str | None) -> str | None:
    if not location:
        return None
    name, _, line = location.rpartition(":")
    path = Path(runtime.app.root) / name
    try:
        return path.read_text().splitlines()[int(line) - 1].strip()
    except (OSError, IndexError, ValueError):
        return None
