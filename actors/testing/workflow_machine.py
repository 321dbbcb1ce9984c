"""Local processes and workflows together, against a reference model of temporal.md §11–12.

A Hypothesis state machine drives local Lua puppets and workflow puppets (the same Lua
puppet as a durable workflow; `workflow_puppets.py`) on one node against one embedded dev
server. Local puppets link to, monitor, message, cancel and terminate workflows and each
other; workflow puppets message, cancel and terminate, and are refused links and monitors.
After every command the observed replies, deaths, events and messages must be exactly those
the model predicts.

The model encodes what differs from local processes (temporal.md §11.2–§12, and the choices
of docs/temporal-host.md); what an exit sets off is the runtime's one exit rule, read from
`actors/exits.py` (`link_notice`, `on_link_down`, `LINKS_REACH`):

- a workflow cannot link or monitor (`Invalid`), and cancelling a local process from one is
  `Invalid` too;
- a link to a workflow is one-directional: its abnormal end gives LINK_DOWN (or the cascade
  death of a local process that does not trap links), its success gives EXIT (one EXIT in
  all for a process that also monitors it), and a local process's death never affects a
  workflow;
- monitoring a workflow gives EXIT on any outcome, also when it has already finished (its
  real outcome, not `NotFound`); linking to a finished workflow is `NotFound`;
- terminate ends a workflow with `Canceled` / `workflow terminated`;
- a cancel request reaches a workflow as one CANCEL event from `{|topology}`, however many
  requests follow; it does not end the workflow. Cancelling or terminating a finished
  workflow is `NotFound`, as sending to it is.

Unlike `LinksMonitors` (`machine.py`, whose model in `model.py` treats
every puppet alike), this one is small on purpose: workflow steps cost server round trips,
so CI runs few examples (`WORKFLOW_SETTINGS`). The dev server rounds timers up to a second, so
nothing here uses timers.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from actors.exits import Source
from actors.messages import CANCEL, EXIT, LINK_DOWN
from actors.pid import PID
from actors.testing.machine import (
    DEFAULT_SETTINGS,
    REASONS,
    PuppetMachine,
    exit_operation,
    has_live,
    run_machine,
)
from actors.testing.model import NOT_FOUND, Death, EventKey, Model, Step, freeze
from actors.testing.operations import LOCAL, WORKFLOW, Operation
from actors.testing.workflow_puppets import WorkflowPuppets

INVALID = "Invalid"
CANCELED = "Canceled"
TOPOLOGY = -1
"""The source of the CANCEL event a Temporal cancel request becomes (`{|topology}`)."""
TOPOLOGY_PID = "{|topology}"

MAX_LIVE = 6
MAX_LIVE_WORKFLOWS = 3
MAX_PUPPETS = 10
ERROR_KINDS = ("Internal", "Unavailable", "Conflict")
WIRINGS = ((), ("link",), ("monitor",), ("monitor", "link"))
"""What the set-up draws for each (local puppet, other puppet) pair."""
WORKFLOW_SETTINGS = settings(DEFAULT_SETTINGS, max_examples=20, stateful_step_count=40)
"""A workflow step costs server round trips: far fewer examples than the in-memory
machine's."""

# -- the reference model -------------------------------------------------------------------


@attrs.define
class WorkflowModel(Model):
    """Local puppets and workflow puppets. Links are between two local puppets or a local
    puppet and a workflow (which never links); watchers are local. What an exit sets off
    is `Model._die`, with each puppet's `source`."""

    kinds: dict[int, str] = attrs.field(factory=dict)
    cancelled: set[int] = attrs.field(factory=set)
    """Workflows that got a Temporal cancel request (their CANCEL event is behind them)."""

    def spawn(self, puppet: int, kind: str = LOCAL) -> None:
        super().spawn(puppet)
        self.kinds[puppet] = kind

    def local(self, puppet: int) -> bool:
        return self.kinds[puppet] == LOCAL

    def source(self, puppet: int) -> Source:
        return Source.PROCESS if self.local(puppet) else Source.WORKFLOW

    # -- commands ---------------------------------------------------------------------------

    def link(self, actor: int, target: int) -> Step:
        step = self._step(actor)
        if not self.local(actor):
            step.reply = INVALID
        elif target not in self.alive:
            step.reply = NOT_FOUND
        elif target != actor:
            self.links.add(frozenset((actor, target)))
        return step

    def unlink(self, actor: int, target: int) -> Step:
        step = self._step(actor)
        if not self.local(actor):
            step.reply = INVALID
        else:
            self.links.discard(frozenset((actor, target)))
        return step

    def monitor(self, actor: int, target: int) -> Step:
        step = self._step(actor)
        if not self.local(actor):
            step.reply = INVALID
        elif target in self.alive:
            self.monitors.add((actor, target))
        elif self.local(target):
            step.event(actor, (EXIT, target, NOT_FOUND, None, None))
        else:  # a finished workflow: its real outcome
            death = self.deaths[target]
            value = None if death.abnormal else freeze(death.value)
            step.event(actor, (EXIT, target, death.kind, value, None))
        return step

    def unmonitor(self, actor: int, target: int) -> Step:
        step = self._step(actor)
        if not self.local(actor):
            step.reply = INVALID
        else:
            self.monitors.discard((actor, target))
        return step

    def cancel(self, actor: int, target: int, reason: str) -> Step:
        step = self._step(actor)
        if self.local(target):
            if not self.local(actor):
                step.reply = INVALID
            elif target in self.alive:
                step.event(target, (CANCEL, actor, None, None, reason))
            else:
                step.reply = NOT_FOUND
        elif target == actor:  # a workflow cancelling itself: straight into its mailbox
            step.event(target, (CANCEL, actor, None, None, reason))
        elif target not in self.alive:
            # A local canceller's host looks first (NotFound, as for a dead process); a
            # workflow's request-cancel-external command on a closed workflow succeeds.
            if self.local(actor):
                step.reply = NOT_FOUND
        elif target not in self.cancelled:
            self.cancelled.add(target)
            step.event(target, (CANCEL, TOPOLOGY, None, None, reason))
        return step

    def terminate(self, actor: int, target: int) -> Step:
        step = self._step(actor)
        if target not in self.alive:
            step.reply = NOT_FOUND
        else:
            message = "process terminated" if self.local(target) else "workflow terminated"
            self._die(step, target, Death("terminated", kind=CANCELED, message=message))
        return step


# -- the machine ---------------------------------------------------------------------------


def has_live_local(machine: WorkflowLinks) -> bool:
    return bool(machine.live(LOCAL))


class WorkflowLinks(PuppetMachine):
    """Local puppets and workflow puppets; the adapter is a `WorkflowPuppets`, or any
    adapter with its `spawn_workflow_puppet`."""

    model_class: ClassVar[type] = WorkflowModel
    resync_behind: ClassVar[bool] = True
    """When a cancel request and the sync signal after it reach a workflow in one workflow
    task, temporalio runs the signal first (it applies signal jobs before the cancel job
    unless the history carries its single-batch flag), so the CANCEL lands in the mailbox
    just after the puppet answered that sync, and the next one reports it."""

    def is_local(self, puppet: int) -> bool:
        return bool(self.model.local(puppet))

    def live(self, kind: str) -> list[int]:
        return sorted(p for p in self.model.alive if self.model.kinds[p] == kind)

    async def _spawn_pid(self, kind: str, label: str) -> PID:
        if kind == LOCAL:
            return await self.harness.spawn_puppet(label)
        harness = self.harness
        assert harness.observer is not None
        spawn = self.adapter.spawn_workflow_puppet  # type: ignore[attr-defined]
        pid: PID = await spawn(harness.node, harness.observer, label)
        return pid

    def _preferred_targets(self, living: list[int], everyone: list[int]) -> list[list[int]]:
        return [living, [p for p in everyone if self.model.kinds[p] == WORKFLOW]]

    # -- drawing puppets --------------------------------------------------------------------

    def _draw(self, data: st.DataObject, puppets: list[int], label: str) -> int:
        puppet: int = data.draw(st.sampled_from(puppets), label=label)
        return puppet

    def _watcher(self, data: st.DataObject) -> int:
        """Who links or monitors: a local puppet, or now and then a workflow (refused)."""
        strategy = st.sampled_from(sorted(self.model.alive))
        if self.live(LOCAL):
            strategy = st.sampled_from(self.live(LOCAL)) | strategy
        actor: int = data.draw(strategy, label="actor")
        return actor

    def _victim(self, data: st.DataObject) -> int:
        """A live puppet to end, preferably one that others link to or monitor (workflows
        never watch, so only targets count)."""
        model = self.model
        involved = {p for link in model.links for p in link} | {t for _, t in model.monitors}
        strategy = st.sampled_from(sorted(model.alive))
        if involved & model.alive:
            strategy = st.sampled_from(sorted(involved & model.alive)) | strategy
        victim: int = data.draw(strategy, label="victim")
        return victim

    # -- rules ------------------------------------------------------------------------------

    @initialize(locals_=st.integers(1, 3), workflows=st.integers(1, 2), data=st.data())
    def start(self, locals_: int, workflows: int, data: st.DataObject) -> None:
        """Spawn a few puppets of each kind and wire links and monitors from the local ones,
        so that most examples reach a workflow's end with someone watching."""
        for _ in range(locals_):
            self.spawn_puppet(LOCAL)
        for _ in range(workflows):
            self.spawn_puppet(WORKFLOW)
        for actor in range(locals_):
            for target in range(locals_ + workflows):
                if target == actor:
                    continue
                wiring = data.draw(st.sampled_from(WIRINGS), label=f"p{actor}->p{target}")
                for op in wiring:
                    self.apply_and_check(Operation(op, actor, target))
            if data.draw(st.booleans(), label=f"p{actor} traps"):
                self.apply_and_check(Operation("trap", actor, value=True))

    @precondition(
        lambda self: (
            not self.model.alive
            or (len(self.model.alive) < MAX_LIVE and len(self.pids) < MAX_PUPPETS)
        )
    )
    @rule()
    def spawn_local(self) -> None:
        self.spawn_puppet(LOCAL)

    @precondition(
        lambda self: (
            len(self.model.alive) < MAX_LIVE
            and len(self.live(WORKFLOW)) < MAX_LIVE_WORKFLOWS
            and len(self.pids) < MAX_PUPPETS
        )
    )
    @rule()
    def spawn_workflow(self) -> None:
        self.spawn_puppet(WORKFLOW)

    @precondition(has_live)
    @rule(data=st.data(), op=st.sampled_from(("link", "monitor")))
    def watch(self, data: st.DataObject, op: str) -> None:
        self.apply(Operation(op, self._watcher(data), self._target(data)))

    @precondition(has_live)
    @rule(data=st.data(), op=st.sampled_from(("unlink", "unmonitor")))
    def unwatch(self, data: st.DataObject, op: str) -> None:
        self.apply(Operation(op, self._watcher(data), self._target(data)))

    @precondition(has_live_local)
    @rule(data=st.data(), value=st.booleans())
    def trap_links(self, data: st.DataObject, value: bool) -> None:
        self.apply(Operation("trap", self._draw(data, self.live(LOCAL), "actor"), value=value))

    @precondition(has_live)
    @rule(data=st.data(), count=st.integers(1, 3))
    def send(self, data: st.DataObject, count: int) -> None:
        """A burst of messages in one command, so several wait in the receiver's queue."""
        actor = self._draw(data, sorted(self.model.alive), "actor")
        self.apply(Operation("send", actor, self._target(data), count=count))

    @precondition(has_live)
    @rule(data=st.data(), n=st.integers(0, 2), kind=st.none() | st.sampled_from(ERROR_KINDS))
    def exit(self, data: st.DataObject, n: int, kind: str | None) -> None:
        self.apply(exit_operation(self._victim(data), n, kind))

    @precondition(lambda self: self.model.alive and len(self.pids) >= 2)
    @rule(data=st.data())
    def terminate(self, data: st.DataObject) -> None:
        actor, target = self._terminate_pair(data)
        self.apply(Operation("terminate", actor, target))

    @precondition(has_live)
    @rule(data=st.data(), reason=st.sampled_from(REASONS))
    def cancel(self, data: st.DataObject, reason: str) -> None:
        actor = self._draw(data, sorted(self.model.alive), "actor")
        self.apply(Operation("cancel", actor, self._target(data), reason=reason))

    # -- checks that differ from local processes ---------------------------------------------

    def _check_reply(self, op: Operation, step: Step, reply: dict[str, Any] | None) -> None:
        super()._check_reply(op, step, reply)
        if reply is not None and step.reply == INVALID:
            # every Invalid of this machine is a workflow refusing
            message = reply["error"]["message"]
            assert "not supported in workflow context" in message, f"reply seen: {reply}"

    def _event_key(self, puppet: int, report: dict[str, Any]) -> EventKey:
        if report["kind"] == CANCEL and report["from"] == TOPOLOGY_PID:
            return (CANCEL, TOPOLOGY, None, None, report["reason"])
        return super()._event_key(puppet, report)

    def _check_not_severed(self, puppet: int, source: int, kind: str) -> None:
        if kind == LINK_DOWN:
            ways = ["link"]
        elif self.model.local(source):
            ways = ["monitor"]
        else:  # a workflow's success reaches its links as EXIT too
            ways = ["monitor", "link"]
        assert not all((way, puppet, source) in self.severed for way in ways), (
            f"p{puppet} got {kind} from p{source} after un{' and un'.join(ways)}"
        )


def run_workflow_machine(address: str, settings: settings | None = None) -> None:
    """Run `WorkflowLinks` with the bundled puppets against the Temporal server at
    `address` (an `EmbeddedServer`'s, in tests)."""
    run_machine(WorkflowPuppets(address), settings or WORKFLOW_SETTINGS, WorkflowLinks)
