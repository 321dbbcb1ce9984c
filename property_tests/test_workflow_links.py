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

Unlike the existing machine (`test_links_monitors.py`, whose model in `model.py` treats
every puppet alike), this one is small on purpose: workflow steps cost server round trips,
so CI runs few examples (profiles below). The dev server rounds timers up to a second, so
nothing here uses timers.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import attrs
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from actors.exits import LINKS_REACH, LinkDown, LinkNotice, Source, link_notice, on_link_down
from actors.messages import CANCEL, EXIT, LINK_DOWN
from actors.pid import PID
from property_tests.model import NOT_FOUND, Death, EventKey, Step, freeze
from property_tests.puppets import Batch, Harness
from property_tests.workflow_puppets import WorkflowPuppets
from temporal_host.embedded import EmbeddedServer

LOCAL, WORKFLOW = "local", "workflow"
INVALID = "Invalid"
CANCELED = "Canceled"
TOPOLOGY = -1
"""The source of the CANCEL event a Temporal cancel request becomes (`{|topology}`)."""
TOPOLOGY_PID = "{|topology}"

MAX_LIVE = 6
MAX_LIVE_WORKFLOWS = 3
MAX_PUPPETS = 10
ERROR_KINDS = ("Internal", "Unavailable", "Conflict")
REASONS = ("", "stop", "please wrap up")
WIRINGS = ((), ("link",), ("monitor",), ("monitor", "link"))
"""What the set-up draws for each (local puppet, other puppet) pair."""
PROFILES: dict[str, dict[str, int]] = {
    "ci": {"max_examples": 20, "stateful_step_count": 40},
    "nightly": {"max_examples": 300, "stateful_step_count": 60},
}
"""Examples per profile (`--hypothesis-profile`); a workflow step costs server round trips,
so far fewer than the in-memory machine's."""

# -- the reference model -------------------------------------------------------------------


@attrs.define
class Model:
    """Local puppets and workflow puppets: who is alive, links, monitors, how each died."""

    kinds: dict[int, str] = attrs.field(factory=dict)
    alive: set[int] = attrs.field(factory=set)
    trap: dict[int, bool] = attrs.field(factory=dict)
    links: set[frozenset[int]] = attrs.field(factory=set)
    """Between two local puppets, or a local puppet and a workflow (which never links)."""
    monitors: set[tuple[int, int]] = attrs.field(factory=set)
    """(watcher, target) pairs; watchers are local."""
    deaths: dict[int, Death] = attrs.field(factory=dict)
    cancelled: set[int] = attrs.field(factory=set)
    """Workflows that got a Temporal cancel request (their CANCEL event is behind them)."""

    def spawn(self, puppet: int, kind: str) -> None:
        self.kinds[puppet] = kind
        self.alive.add(puppet)
        self.trap[puppet] = False

    def local(self, puppet: int) -> bool:
        return self.kinds[puppet] == LOCAL

    def source(self, puppet: int) -> Source:
        return Source.PROCESS if self.local(puppet) else Source.WORKFLOW

    def _step(self, actor: int) -> Step:
        assert actor in self.alive, f"p{actor} cannot act: it is dead"
        return Step(actor, frozenset(self.alive))

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

    def set_trap(self, actor: int, value: bool) -> Step:
        step = self._step(actor)
        self.trap[actor] = value
        return step

    def send(self, actor: int, target: int, seqs: list[int]) -> Step:
        step = self._step(actor)
        if target in self.alive:
            step.messages.setdefault(target, []).extend((actor, seq) for seq in seqs)
        else:
            step.reply = NOT_FOUND
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

    def exit(self, actor: int, death: Death) -> Step:
        step = self._step(actor)
        self._die(step, actor, death)
        return step

    # -- exits ------------------------------------------------------------------------------

    def _die(self, step: Step, victim: int, death: Death) -> None:
        """Apply an exit and what it sets off, through a queue as the runtime does."""
        linked_before = set(self.links)
        queue = deque([victim])
        self._mark_dead(step, victim, death)
        while queue:
            dying = queue.popleft()
            death = step.deaths[dying]
            value = None if death.abnormal else freeze(death.value)
            watchers = {watcher for watcher, target in self.monitors if target == dying}
            for watcher in sorted(watchers & step.alive_before):
                step.event(watcher, (EXIT, dying, death.kind, value, None))
            self.monitors = {pair for pair in self.monitors if dying not in pair}
            for link in sorted(self.links, key=sorted):
                if dying not in link:
                    continue
                self.links.discard(link)
                (peer,) = link - {dying}
                if peer not in self.alive or not LINKS_REACH[self.source(peer)]:
                    continue  # a local process's death never reaches a workflow
                notice = link_notice(
                    self.source(dying), death.abnormal, also_monitors=peer in watchers
                )
                if notice is LinkNotice.EXIT:
                    step.event(peer, (EXIT, dying, None, value, None))
                elif notice is LinkNotice.DOWN:
                    if on_link_down(self.trap[peer]) is LinkDown.TRAP:
                        step.event(peer, (LINK_DOWN, dying, death.kind, None, None))
                    else:
                        self._mark_dead(step, peer, Death("cascade", kind=CANCELED))
                        queue.append(peer)
        # Any abnormally dying peer linked to a cascaded process may be the one it names.
        for puppet, death in list(step.deaths.items()):
            if death.how == "cascade":
                causes = frozenset(
                    peer
                    for peer, other in step.deaths.items()
                    if other.abnormal
                    and peer != puppet
                    and frozenset((peer, puppet)) in linked_before
                )
                step.deaths[puppet] = attrs.evolve(death, causes=causes)

    def _mark_dead(self, step: Step, puppet: int, death: Death) -> None:
        self.alive.discard(puppet)
        self.deaths[puppet] = death
        step.deaths[puppet] = death


# -- the machine ---------------------------------------------------------------------------


def has_live_local(machine: WorkflowLinks) -> bool:
    return bool(machine.live(LOCAL))


def has_live(machine: WorkflowLinks) -> bool:
    return bool(machine.model.alive)


class WorkflowLinks(RuleBasedStateMachine):
    def __init__(self, address: str) -> None:
        super().__init__()
        self.adapter = WorkflowPuppets(address)
        self.model = Model()
        self.pids: list[PID] = []
        self.ids: dict[str, int] = {}
        self.exits: dict[int, dict[str, Any]] = {}
        self.sent: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        self.received: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        self.seq = itertools.count(1)
        self.last: tuple[str, dict[str, Any], Step, dict[str, Any] | None, Batch] | None = None
        self.before: tuple[set[tuple[int, int]], set[frozenset[int]]] = (set(), set())
        self.severed: set[tuple[str, int, int]] = set()
        """("monitor", watcher, target) after unmonitor, ("link", a, b) both ways after unlink,
        until monitored or linked again: no EXIT / LINK_DOWN / cascade may come through."""
        self._portal_cm = start_blocking_portal("asyncio")
        self.portal = self._portal_cm.__enter__()
        self._node_cm: Any = None
        try:
            self.harness: Harness = self.portal.call(self._make_harness)
            self._node_cm = self.portal.wrap_async_context_manager(self.harness.node)
            self._node_cm.__enter__()
            self.portal.call(self.adapter.boot)
            self.portal.call(self.harness.start)
        except BaseException:
            self.teardown()
            raise

    async def _make_harness(self) -> Harness:
        return Harness(self.adapter)

    def teardown(self) -> None:
        try:
            if self._node_cm is not None:
                live = [self.pids[p] for p in sorted(self.model.alive)]
                try:
                    self.portal.call(self.adapter.terminate_workflows, live)
                finally:
                    self._node_cm.__exit__(None, None, None)
        finally:
            self._portal_cm.__exit__(None, None, None)

    def live(self, kind: str) -> list[int]:
        return sorted(p for p in self.model.alive if self.model.kinds[p] == kind)

    # -- drawing puppets --------------------------------------------------------------------

    def _draw(self, data: st.DataObject, puppets: list[int], label: str) -> int:
        return data.draw(st.sampled_from(puppets), label=label)

    def _watcher(self, data: st.DataObject) -> int:
        """Who links or monitors: a local puppet, or now and then a workflow (refused)."""
        strategy = st.sampled_from(sorted(self.model.alive))
        if self.live(LOCAL):
            strategy = st.sampled_from(self.live(LOCAL)) | strategy
        return data.draw(strategy, label="actor")

    def _victim(self, data: st.DataObject) -> int:
        """A live puppet to end, preferably one that others link to or monitor, so that its
        end has consequences to check."""
        model = self.model
        involved = {p for link in model.links for p in link} | {t for _, t in model.monitors}
        strategy = st.sampled_from(sorted(model.alive))
        if involved & model.alive:
            strategy = st.sampled_from(sorted(involved & model.alive)) | strategy
        return data.draw(strategy, label="victim")

    def _target(self, data: st.DataObject, *, besides: int | None = None) -> int:
        """Any puppet, dead ones included, but live ones and workflows more often."""
        everyone = [p for p in range(len(self.pids)) if p != besides]
        living = [p for p in sorted(self.model.alive) if p != besides]
        workflows = [p for p in everyone if self.model.kinds[p] == WORKFLOW]
        strategy = st.sampled_from(everyone)
        for preferred in (living, workflows):
            if preferred:
                strategy = st.sampled_from(preferred) | strategy
        return data.draw(strategy, label="target")

    def _spawn(self, kind: str) -> None:
        puppet = len(self.pids)
        harness = self.harness
        if kind == LOCAL:
            pid = self.portal.call(harness.spawn_puppet, f"p{puppet}")
        else:
            pid = self.portal.call(
                self.adapter.spawn_workflow_puppet, harness.node, harness.observer, f"p{puppet}"
            )
        self.pids.append(pid)
        self.ids[str(pid)] = puppet
        self.model.spawn(puppet, kind)

    def _do(self, op: str, change: Callable[[Model], Step], **fields: Any) -> Step:
        """Apply `change` to the model, run the same command on the real puppets, and keep
        both for the invariants to compare."""
        self.before = (set(self.model.monitors), set(self.model.links))
        step = change(self.model)
        reply, batch = self.portal.call(self._run_step, step, op, fields)
        self.last = (op, fields, step, reply, batch)
        return step

    async def _run_step(
        self, step: Step, op: str, fields: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, Batch]:
        """The command, the deaths it causes, quiet; then one more sync round for the
        puppets that reported less than the model predicts.

        That round is for a workflow's CANCEL: when a cancel request and the sync signal
        after it reach a workflow in one workflow task, temporalio runs the signal first
        (it applies signal jobs before the cancel job unless the history carries its
        single-batch flag), so the CANCEL lands in the mailbox just after the puppet
        answered that sync, and the next one reports it.
        """
        harness = self.harness
        reply = await harness.run(self.pids[step.actor], op, fields)
        await harness.wait_exits([self.pids[p] for p in step.deaths])
        await self.adapter.quiesce(harness, [self.pids[p] for p in sorted(self.model.alive)])
        behind = self._behind(harness.log.batch, step)
        if behind:
            await harness.sync([self.pids[p] for p in behind])
        return reply, harness.log.take()

    def _behind(self, batch: Batch, step: Step) -> list[int]:
        """Live puppets that reported fewer events or messages than the model predicts."""
        reported: Counter[int] = Counter(
            self.ids.get(sender) for sender, report in batch.reports if report["type"] != "reply"
        )
        return [
            puppet
            for puppet in sorted(self.model.alive)
            if reported[puppet]
            < sum(step.events.get(puppet, Counter()).values()) + len(step.messages.get(puppet, []))
        ]

    # -- rules ------------------------------------------------------------------------------

    @initialize(locals_=st.integers(1, 3), workflows=st.integers(1, 2), data=st.data())
    def start(self, locals_: int, workflows: int, data: st.DataObject) -> None:
        """Spawn a few puppets of each kind and wire links and monitors from the local ones,
        so that most examples reach a workflow's end with someone watching."""
        for _ in range(locals_):
            self._spawn(LOCAL)
        for _ in range(workflows):
            self._spawn(WORKFLOW)
        for actor in range(locals_):
            for target in range(locals_ + workflows):
                if target == actor:
                    continue
                wiring = data.draw(st.sampled_from(WIRINGS), label=f"p{actor}->p{target}")
                for op in wiring:
                    change = functools.partial(getattr(Model, op), actor=actor, target=target)
                    self._do(op, change, target=str(self.pids[target]))
                    self.step_matches_model()  # invariants only see a rule's last command
            if data.draw(st.booleans(), label=f"p{actor} traps"):
                change = functools.partial(Model.set_trap, actor=actor, value=True)
                self._do("trap", change, value=True)
                self.step_matches_model()

    @precondition(
        lambda self: (
            not self.model.alive
            or (len(self.model.alive) < MAX_LIVE and len(self.pids) < MAX_PUPPETS)
        )
    )
    @rule()
    def spawn_local(self) -> None:
        self._spawn(LOCAL)

    @precondition(
        lambda self: (
            len(self.model.alive) < MAX_LIVE
            and len(self.live(WORKFLOW)) < MAX_LIVE_WORKFLOWS
            and len(self.pids) < MAX_PUPPETS
        )
    )
    @rule()
    def spawn_workflow(self) -> None:
        self._spawn(WORKFLOW)

    @precondition(has_live)
    @rule(data=st.data(), op=st.sampled_from(("link", "monitor")))
    def watch(self, data: st.DataObject, op: str) -> None:
        actor, target = self._watcher(data), self._target(data)
        self._do(op, lambda m: getattr(m, op)(actor, target), target=str(self.pids[target]))
        if not self.model.local(actor):
            return
        if op == "link":
            self.severed -= {("link", actor, target), ("link", target, actor)}
        else:
            self.severed.discard(("monitor", actor, target))

    @precondition(has_live)
    @rule(data=st.data(), op=st.sampled_from(("unlink", "unmonitor")))
    def unwatch(self, data: st.DataObject, op: str) -> None:
        actor, target = self._watcher(data), self._target(data)
        self._do(op, lambda m: getattr(m, op)(actor, target), target=str(self.pids[target]))
        if not self.model.local(actor):
            return
        if op == "unlink":
            self.severed |= {("link", actor, target), ("link", target, actor)}
        else:
            self.severed.add(("monitor", actor, target))

    @precondition(has_live_local)
    @rule(data=st.data(), value=st.booleans())
    def trap_links(self, data: st.DataObject, value: bool) -> None:
        actor = self._draw(data, self.live(LOCAL), "actor")
        self._do("trap", lambda m: m.set_trap(actor, value), value=value)

    @precondition(has_live)
    @rule(data=st.data(), count=st.integers(1, 3))
    def send(self, data: st.DataObject, count: int) -> None:
        """A burst of messages in one command, so several wait in the receiver's queue."""
        actor = self._draw(data, sorted(self.model.alive), "actor")
        target = self._target(data)
        seqs = [next(self.seq) for _ in range(count)]
        payloads = [{"seq": seq, "from": actor} for seq in seqs]
        step = self._do(
            "send",
            lambda m: m.send(actor, target, seqs),
            target=str(self.pids[target]),
            topic="msg",
            payloads=payloads,
        )
        if step.reply == "ok":
            self.sent[(actor, target)].extend(seqs)

    @precondition(has_live)
    @rule(data=st.data(), n=st.integers(0, 2), kind=st.none() | st.sampled_from(ERROR_KINDS))
    def exit(self, data: st.DataObject, n: int, kind: str | None) -> None:
        """End normally with a value (kind None) or by raising an error of that kind."""
        actor = self._victim(data)
        if kind is None:
            # No empty tables: a Lua puppet could not tell an empty list from an empty map.
            value = {"bye": actor, "n": n, "list": list(range(n + 1))}
            self._do("exit", lambda m: m.exit(actor, Death("normal", value=value)), value=value)
        else:
            message = f"p{actor} failed ({n})"
            death = Death("error", kind=kind, message=message)
            self._do(
                "exit", lambda m: m.exit(actor, death), error={"kind": kind, "message": message}
            )

    @precondition(lambda self: self.model.alive and len(self.pids) >= 2)
    @rule(data=st.data())
    def terminate(self, data: st.DataObject) -> None:
        """Terminate another puppet, dead ones included, never oneself."""
        alive = self.model.alive
        if len(alive) == 1:
            target = self._target(data, besides=next(iter(alive)))
        elif data.draw(st.booleans(), label="any target"):
            target = self._target(data)
        else:
            target = self._victim(data)
        actor = data.draw(st.sampled_from(sorted(alive - {target})), label="actor")
        self._do("terminate", lambda m: m.terminate(actor, target), target=str(self.pids[target]))

    @precondition(has_live)
    @rule(data=st.data(), reason=st.sampled_from(REASONS))
    def cancel(self, data: st.DataObject, reason: str) -> None:
        actor = self._draw(data, sorted(self.model.alive), "actor")
        target = self._target(data)
        self._do(
            "cancel",
            lambda m: m.cancel(actor, target, reason),
            target=str(self.pids[target]),
            reason=reason,
        )

    # -- checks -----------------------------------------------------------------------------

    @invariant()
    def step_matches_model(self) -> None:
        if self.last is None:
            return
        op, fields, step, reply, batch = self.last
        self.last = None
        where = f"after {op} by p{step.actor} ({self.model.kinds[step.actor]}) {fields}"
        self._check_reply(where, op, fields, step, reply)
        self._check_deaths(where, step, batch)
        self._check_observations(where, step, batch)

    @invariant()
    def messages_keep_per_sender_order(self) -> None:
        for (sender, receiver), seqs in self.received.items():
            assert seqs == sorted(set(seqs)), f"p{receiver} got p{sender}'s messages as {seqs}"
            assert set(seqs) <= set(self.sent[(sender, receiver)])

    def _check_reply(
        self, where: str, op: str, fields: dict[str, Any], step: Step, reply: dict[str, Any] | None
    ) -> None:
        if reply is None:
            assert step.reply_optional, f"{where}: no reply"
            return
        error = reply["error"]
        if step.reply == "ok":
            assert reply["ok"], f"{where}: expected ok, got {error}"
            return
        assert not reply["ok"] and error["kind"] == step.reply, (
            f"{where}: expected {step.reply}, got {reply}"
        )
        if step.reply == NOT_FOUND:
            assert "not found" in error["message"], f"{where}: {error}"
        elif step.reply == INVALID:  # every Invalid of this machine is a workflow refusing
            assert "not supported in workflow context" in error["message"], f"{where}: {error}"

    def _check_deaths(self, where: str, step: Step, batch: Batch) -> None:
        exits = {self._id(where, pid): outcome for pid, outcome in batch.exits}
        assert sorted(exits) == sorted(step.deaths), (
            f"{where}: died {sorted(exits)}, the model says {sorted(step.deaths)} "
            f"(links before: {self._pairs(self.before[1])})"
        )
        self.exits.update(exits)
        causes: dict[int, int] = {}
        for puppet, death in step.deaths.items():
            outcome = exits[puppet]
            error = outcome["error"]
            what = f"{where}: p{puppet} exit {outcome}, expected {death}"
            if not death.abnormal:
                assert error is None, what
                assert freeze(outcome["value"]) == freeze(death.value), what
                continue
            assert error is not None and error["kind"] == death.kind, what
            if death.how == "error":  # raised by the puppet: only kind and message are ours
                assert error["message"] == death.message, what
                continue
            assert error["retryable"] is False, what  # made by the runtime
            if death.how == "terminated":
                assert error["message"] == death.message, what
                continue
            match = re.fullmatch(r"linked process failed: (.+)", error["message"])
            assert match, what
            cause = self.ids.get(match.group(1))
            assert cause in death.causes, f"{what}; possible causes {sorted(death.causes)}"
            assert error["details"] == {
                "linked_pid": str(self.pids[cause]),
                "cause": exits[cause]["error"]["message"],
            }, what
            assert ("link", puppet, cause) not in self.severed, f"{what}: after unlink"
            causes[puppet] = cause
        for puppet in causes:
            seen = [puppet]
            while seen[-1] in causes:
                seen.append(causes[seen[-1]])
                assert len(seen) == len(set(seen)), f"{where}: cascade causes loop: {seen}"

    def _check_observations(self, where: str, step: Step, batch: Batch) -> None:
        events: defaultdict[int, Counter[EventKey]] = defaultdict(Counter)
        messages: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        for sender, report in batch.reports:
            puppet = self._id(where, sender)
            assert puppet in step.alive_before, f"{where}: p{puppet} reported when dead: {report}"
            if report["type"] == "event":
                events[puppet][self._event_key(where, puppet, report)] += 1
            elif report["type"] == "message":
                source, payload = self._id(where, report["from"]), report["payload"]
                assert report["topic"] == "msg" and isinstance(payload, dict), (
                    f"{where}: p{puppet} got an unexpected message {report}"
                )
                assert payload.get("from") == source, f"{where}: {report} is not from p{source}"
                messages[puppet].append((source, payload["seq"]))
                self.received[(source, puppet)].append(payload["seq"])
            else:
                assert report["type"] == "reply", report
        for puppet in step.alive_before:
            expected, got = step.events.get(puppet, Counter()), events[puppet]
            survived = puppet in self.model.alive
            ok = got == expected if survived else not got - expected
            assert ok, (
                f"{where}: p{puppet} saw events {dict(got)}, the model expects {dict(expected)}; "
                f"monitors before: {sorted(self.before[0])}, links before: "
                f"{self._pairs(self.before[1])}, trap_links: {self.model.trap[puppet]}"
            )
            for source in {s for s, _ in messages[puppet]} | {
                s for s, _ in step.messages.get(puppet, [])
            }:
                got_seqs = [q for s, q in messages[puppet] if s == source]
                want = [q for s, q in step.messages.get(puppet, []) if s == source]
                ok = got_seqs == want if survived else got_seqs == want[: len(got_seqs)]
                assert ok, f"{where}: p{puppet} got {got_seqs} from p{source}, expected {want}"

    def _event_key(self, where: str, puppet: int, report: dict[str, Any]) -> EventKey:
        kind, error = report["kind"], report["error"]
        if kind == CANCEL:
            if report["from"] == TOPOLOGY_PID:
                return (kind, TOPOLOGY, None, None, report["reason"])
            return (kind, self._id(where, report["from"]), None, None, report["reason"])
        source = self._id(where, report["from"])
        assert kind in (EXIT, LINK_DOWN), f"{where}: p{puppet} got unknown event {report}"
        if kind == LINK_DOWN:
            ways = ["link"]
        elif self.model.local(source):
            ways = ["monitor"]
        else:  # a workflow's success reaches its links as EXIT too
            ways = ["monitor", "link"]
        assert not all((way, puppet, source) in self.severed for way in ways), (
            f"{where}: p{puppet} got {kind} from p{source} after un{' and un'.join(ways)}"
        )
        if error is not None:
            died = self.exits.get(source)
            if error["kind"] == NOT_FOUND:
                assert "not found" in error["message"], f"{where}: {report}"
            else:
                assert died is not None and died["error"] == error, (
                    f"{where}: p{puppet} saw {kind} from p{source} with {error}, "
                    f"but p{source} exited with {died}"
                )
        value = freeze(report["value"]) if kind == EXIT and error is None else None
        return (kind, source, error and error["kind"], value, None)

    def _id(self, where: str, pid: str | None) -> int:
        assert pid in self.ids, f"{where}: unknown PID {pid}"
        return self.ids[pid]

    @staticmethod
    def _pairs(links: set[frozenset[int]]) -> list[tuple[int, ...]]:
        return sorted(tuple(sorted(link)) for link in links)


# -- running it ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def workflow_server() -> Iterator[EmbeddedServer]:
    """One in-memory dev server for the session: every machine brings its own worker and
    task-queue prefix, so examples never see each other's workflows."""
    server = EmbeddedServer()
    anyio.run(server.start)
    try:
        yield server
    finally:
        anyio.run(server.stop)


@pytest.fixture
def workflow_settings(machine_settings: settings) -> settings:
    """The selected profile (`ci` or `nightly`) with this machine's example counts."""
    name = settings.get_current_profile_name().split("-with-")[0]
    return settings(machine_settings, **PROFILES.get(name, PROFILES["ci"]))


def test_links_and_monitors_with_workflows(
    workflow_server: EmbeddedServer, workflow_settings: settings
) -> None:
    run_state_machine_as_test(
        lambda: WorkflowLinks(workflow_server.address), settings=workflow_settings
    )
