"""The puppet protocol, the observer, and the harness that drives them: host-independent.

The property tests never touch a host's internals. They drive *puppets*: processes that obey
command messages and report everything they observe to an *observer*, a process owned by
the test. Everything goes through the Host contract (send, link, monitor, ...), so the same
state machine runs against every host; a host only has to provide a `PuppetHost` adapter,
i.e. a way to build the node, a puppet written in its own terms (a Python behaviour here, a
Lua process or a workflow later) and a way to wait until the system is quiet.

Protocol (plain values only, so a Lua or workflow puppet can speak it):

- The harness sends topic `cmd` with `{op = ..., id = n, ...}`; ops are `link`, `unlink`,
  `monitor`, `unmonitor`, `terminate` and `cancel` (field `target`, a PID string; `cancel`
  also `reason`), `send` (`target`, `topic`, `payloads`: one message per element, in
  order, stopping at the first failure), `trap` (`value`, a boolean), `sync`
  and `exit` (either `value`, or `error = {kind, message}` to raise).
- Every other message is reported, never acted on.
- Each report goes to the observer on topic `report`:
  `{type = "reply", id, ok, error}` once per command (for `exit`, before exiting);
  `{type = "event", kind, from, error, value, reason}` for each lifecycle event;
  `{type = "message", topic, from, payload}` for each other message.
  `error` is nil or `{kind, message, retryable, details}`. A field that is nil may be left
  out (a Lua table cannot hold nil); `normalise` fills it in on arrival.
- Before handling any inbox item the puppet first reports every event waiting in
  `events()`, so when it answers `sync` it has reported everything delivered before that.
- The observer spawns each puppet monitored: its EXITs are the record of every death.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import anyio
import attrs

from actors import errors
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from actors.messages import CANCEL, EXIT, Event
from actors.node import Node
from actors.pid import PID
from actors.python_host import ProcessContext, PythonHost

OBSERVER_HOST = "test:observer"


def error_dict(error: Error | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "kind": error.kind,
        "message": error.message,
        "retryable": error.retryable,
        "details": dict(error.details or {}),
    }


def event_report(event: Event) -> dict[str, Any]:
    return {
        "type": "event",
        "kind": event.kind,
        "from": str(event.source),
        "error": error_dict(event.error),
        "value": event.value,
        "reason": event.reason if event.kind == CANCEL else None,
    }


# -- the Python puppet ------------------------------------------------------------------------


async def python_puppet(ctx: ProcessContext, observer: str, label: str) -> Any:
    """A puppet as a Python behaviour: obeys `cmd` messages, reports what it sees."""
    report_to = PID.parse(observer)
    inbox, events = ctx.inbox(), ctx.events()

    async def report(item: dict[str, Any]) -> None:
        await ctx.send(report_to, "report", item)

    while True:
        message = await inbox.receive()
        while len(events):
            await report(event_report(events.receive_nowait()))
        if message.topic != "cmd":
            sender = str(message.sender) if message.sender is not None else None
            await report(
                {
                    "type": "message",
                    "topic": message.topic,
                    "from": sender,
                    "payload": message.payload,
                }
            )
            continue
        command = message.payload
        op, target = command["op"], command.get("target")
        if op == "exit":
            await report({"type": "reply", "id": command["id"], "ok": True, "error": None})
            if command.get("error"):
                raise errors.error(command["error"]["kind"], command["error"]["message"])
            return command.get("value")
        failure: Error | None = None
        try:
            if op in ("link", "unlink", "monitor", "unmonitor", "terminate"):
                await getattr(ctx, op)(target)
            elif op == "cancel":
                await ctx.cancel(target, command.get("reason", ""))
            elif op == "send":
                for payload in command["payloads"]:
                    await ctx.send(target, command["topic"], payload)
            elif op == "trap":
                ctx.trap_links = bool(command["value"])
            elif op != "sync":
                raise errors.invalid(f"puppet {label}: unknown op {op!r}")
        except ActorError as exc:
            failure = exc.error
        await report(
            {
                "type": "reply",
                "id": command["id"],
                "ok": failure is None,
                "error": error_dict(failure),
            }
        )


# -- what the observer saw --------------------------------------------------------------------

_REPORT_FIELDS: dict[str, tuple[str, ...]] = {
    "reply": ("id", "ok", "error"),
    "event": ("kind", "from", "error", "value", "reason"),
    "message": ("topic", "from", "payload"),
}


def normalise(report: Any) -> dict[str, Any]:
    """A report with every field present: nil fields may be missing from a Lua table, and
    an error's `details` may be nil rather than empty."""
    if not isinstance(report, dict) or report.get("type") not in _REPORT_FIELDS:
        raise AssertionError(f"malformed report: {report!r}")
    out = {field: report.get(field) for field in _REPORT_FIELDS[report["type"]]}
    out["type"] = report["type"]
    if out.get("ok") is not None:
        out["ok"] = bool(out["ok"])
    error = out.get("error")
    if error is not None:
        out["error"] = {
            "kind": error.get("kind"),
            "message": error.get("message"),
            "retryable": error.get("retryable"),
            "details": dict(error.get("details") or {}),
        }
    return out


@attrs.define
class Batch:
    """Everything observed since the previous batch.

    `reports` are (puppet PID string, report) in arrival order; `exits` are the EXITs the
    observer got as (PID string, {value, error}).
    """

    reports: list[tuple[str, dict[str, Any]]] = attrs.field(factory=list)
    exits: list[tuple[str, dict[str, Any]]] = attrs.field(factory=list)


class Observations:
    """Filled by the observer process, read by the harness; both run on the same loop."""

    def __init__(self) -> None:
        self.batch = Batch()
        self.replies: dict[int, dict[str, Any]] = {}
        self.exited: dict[str, dict[str, Any]] = {}
        self._changed = anyio.Event()

    def add_report(self, sender: str, report: dict[str, Any]) -> None:
        report = normalise(report)
        if report["type"] == "reply":
            self.replies[report["id"]] = report
        self.batch.reports.append((sender, report))
        self._touch()

    def add_exit(self, pid: str, outcome: dict[str, Any]) -> None:
        self.exited[pid] = outcome
        self.batch.exits.append((pid, outcome))
        self._touch()

    def take(self) -> Batch:
        batch, self.batch = self.batch, Batch()
        return batch

    def _touch(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def wait(
        self,
        done: Callable[[], bool],
        timeout: float,
        describe: Callable[[], str],
        fail_fast: Callable[[], str | None] = lambda: None,
    ) -> None:
        """Wait until `done()`; raise AssertionError with `describe()` on timeout, or at once
        with the message `fail_fast()` returns when it stops being None."""
        with anyio.move_on_after(timeout):
            while not done():
                problem = fail_fast()
                if problem is not None:
                    raise AssertionError(problem)
                await self._changed.wait()
            return
        raise AssertionError(f"timed out after {timeout}s: {describe()}")


def make_observer(log: Observations) -> Callable[..., Any]:
    async def observer(ctx: ProcessContext) -> None:
        async def exits() -> None:
            events = ctx.events()
            while True:
                event = await events.receive()
                if event.kind == EXIT:
                    log.add_exit(
                        str(event.source), {"value": event.value, "error": error_dict(event.error)}
                    )

        async with anyio.create_task_group() as tg:
            tg.start_soon(exits)
            inbox = ctx.inbox()
            while True:
                message = await inbox.receive()
                if message.topic == "report":
                    log.add_report(str(message.sender), message.payload)

    return observer


# -- host adapters ----------------------------------------------------------------------------


class PuppetHost(Protocol):
    """The adapter protocol: what a host provides to be checked by the state machines.

    Nothing here is specific to one kind of host: a node with the host on it, a way to start
    a puppet that speaks the protocol above, and a way to wait for quiet. `PythonPuppets`
    and `LuaPuppets` are the reference adapters; `docs/guide/testing.md` writes one."""

    name: str
    timeout: float
    """How long anything that should happen may take before the test calls it missing."""

    def make_node(self) -> Node:
        """A fresh node with the host(s) the puppets run on (the observer host is added)."""
        ...

    async def spawn_puppet(self, node: Node, observer: PID, label: str) -> PID:
        """Start one puppet, monitored by `observer` from its first instruction."""
        ...

    async def quiesce(self, harness: Harness, live: Sequence[PID]) -> None:
        """Return once everything caused so far has been delivered and reported."""
        ...

    # Optional, looked up by name:
    #   async def boot(self) -> None          after the node is running, before any spawn
    #   async def cleanup(self, live) -> None  before the node stops (stop what outlives it)


@attrs.frozen
class PythonPuppets:
    """Puppets as Python behaviours on the local Python host."""

    name: str = "python"
    host: str = "test:puppets"
    timeout: float = 5.0

    def make_node(self) -> Node:
        node = Node(shutdown_grace=0.0)
        node.add_host(PythonHost(self.host))
        return node

    async def spawn_puppet(self, node: Node, observer: PID, label: str) -> PID:
        request = SpawnRequest(python_puppet, (str(observer), label), parent=observer, monitor=True)
        return await node.spawn(self.host, request)

    async def quiesce(self, harness: Harness, live: Sequence[PID]) -> None:
        # In memory every exit and delivery is applied before the call that caused it
        # returns, so one sync round trip per live puppet is enough.
        await harness.sync(live)


# -- the harness ------------------------------------------------------------------------------


class Harness:
    """Runs inside the event loop: the node, the observer, and commands to puppets."""

    def __init__(self, adapter: PuppetHost) -> None:
        self.adapter = adapter
        self.node = adapter.make_node()
        self.node.add_host(PythonHost(OBSERVER_HOST))
        self.log = Observations()
        self.observer: PID | None = None
        self._ids = itertools.count(1)

    async def start(self) -> None:
        self.observer = await self.node.spawn(OBSERVER_HOST, SpawnRequest(make_observer(self.log)))

    async def spawn_puppet(self, label: str) -> PID:
        assert self.observer is not None
        return await self.adapter.spawn_puppet(self.node, self.observer, label)

    async def command(self, puppet: PID, op: str, **fields: Any) -> int:
        command_id = next(self._ids)
        try:
            await self.node.send(
                self.observer, puppet, "cmd", {"op": op, "id": command_id, **fields}
            )
        except ActorError as exc:
            exited = self.log.exited.get(str(puppet), "no EXIT seen yet")
            raise AssertionError(
                f"{puppet} should be alive for {op}, but: {exc}; {exited}"
            ) from exc
        return command_id

    async def run(self, puppet: PID, op: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Send one command and wait for its reply, or for the puppet's death (a command may
        kill the puppet running it). Returns the reply, if any."""
        command_id = await self.command(puppet, op, **fields)
        log = self.log
        await log.wait(
            lambda: command_id in log.replies or str(puppet) in log.exited,
            self.adapter.timeout,
            lambda: f"no reply from {puppet} to {op} {fields} and it did not exit",
        )
        return log.replies.get(command_id)

    async def wait_exits(self, pids: Sequence[PID]) -> None:
        log = self.log
        await log.wait(
            lambda: all(str(p) in log.exited for p in pids),
            self.adapter.timeout,
            lambda: (
                "expected these to exit: "
                + ", ".join(str(p) for p in pids if str(p) not in log.exited)
            ),
        )

    async def sync(self, pids: Sequence[PID]) -> None:
        """A `sync` round trip to each puppet; fails at once if one of them dies instead."""
        ids = {await self.command(pid, "sync"): pid for pid in pids}
        log = self.log

        def died() -> str | None:
            for pid in ids.values():
                if str(pid) in log.exited:
                    return f"{pid} exited unexpectedly: {log.exited[str(pid)]}"
            return None

        await log.wait(
            lambda: all(i in log.replies for i in ids),
            self.adapter.timeout,
            lambda: (
                "no sync reply from "
                + ", ".join(str(p) for i, p in ids.items() if i not in log.replies)
            ),
            died,
        )

    async def step(
        self,
        puppet: PID,
        op: str,
        fields: dict[str, Any],
        deaths: Sequence[PID],
        live: Sequence[PID],
    ) -> tuple[dict[str, Any] | None, Batch]:
        """One command, then wait for the deaths it should cause and for quiet; return the
        reply and everything observed during the step."""
        reply = await self.run(puppet, op, fields)
        await self.wait_exits(deaths)
        await self.adapter.quiesce(self, live)
        return reply, self.log.take()
