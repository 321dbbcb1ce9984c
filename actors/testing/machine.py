"""Links, monitors, trap_links, cancel and terminate against the reference model, on any host.

A Hypothesis state machine drives puppets (see `puppets.py`) through the Host contract only:
each rule issues one `Operation` to one live puppet, waits for the deaths the model predicts
and for quiet, then compares everything observed in that step with the model's prediction:

- the command's reply (ok, or the error kind);
- every death: who, and with what value or error (kind, message, cascade details);
- every event each puppet saw (kind, source, error kind, value, cancel reason), exactly for
  survivors; a puppet that died in the step may have missed some;
- every message, per sender in send order.

Since predictions are exact, nothing may arrive after `unlink` / `unmonitor`: such an event
would be one the model did not predict. A failure raises `Counterexample`: the script of
operations so far (Hypothesis shrinks it) and what was seen against what was expected.

    from actors.testing import LinksMonitors, PythonPuppets, run_machine
    run_machine(PythonPuppets())             # or your own PuppetHost
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar, NoReturn

from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from actors.messages import CANCEL, EXIT, LINK_DOWN
from actors.pid import PID
from actors.testing.model import NOT_FOUND, EventKey, Model, Step, freeze
from actors.testing.operations import LOCAL, Operation
from actors.testing.puppets import Batch, Harness, PuppetHost

MAX_LIVE = 6
MAX_PUPPETS = 10
ERROR_KINDS = ("Internal", "Unavailable", "Timeout", "Conflict")
REASONS = ("", "stop", "please wrap up")

WIRING = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 4), st.sampled_from(("link", "monitor"))),
    max_size=10,
)
"""The set-up's links and monitors: (from, to, kind), for up to five puppets."""
TRAPS = st.sets(st.integers(0, 4), max_size=3)

DEFAULT_SETTINGS = settings(
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[phase for phase in Phase if phase is not Phase.explain],
)
"""What `run_machine` uses unless given settings: the `ci` profile of our own suite.

Without Hypothesis's explain phase: after shrinking it re-runs the failing script with each
step varied, to annotate which arguments did not matter, and for a machine it cost three
times the shrinking (44 of the 62 s of examples/testing's shrink test) to say nothing that
`Counterexample` prints: the shrunk script and what was seen against what was expected."""


class Counterexample(AssertionError):
    """The implementation did something the model did not predict. The message is the
    script of operations that led there and what was seen against what was expected."""

    def __init__(self, host: str, script: Sequence[Operation], problem: str) -> None:
        self.host = host
        self.script = list(script)
        self.problem = problem
        lines = "\n".join(f"  {op}" for op in self.script)
        super().__init__(
            f"host {host!r} differs from the model after {len(self.script)} operations:\n"
            f"{lines}\n"
            f"at the last one: {problem}\n"
            f"(to replay: actors.testing.run_script(adapter, {self.script!r}))"
        )


def exit_operation(actor: int, n: int, kind: str | None) -> Operation:
    """A normal exit with a value (kind None) or an error of that kind."""
    if kind is None:
        # No empty tables: a Lua puppet could not tell an empty list from an empty map.
        return Operation("exit", actor, value={"bye": actor, "n": n, "list": list(range(n + 1))})
    return Operation("exit", actor, error=(kind, f"p{actor} failed ({n})"))


class PuppetMachine(RuleBasedStateMachine):
    """The driver shared by the machines: puppets, the script, and the checks.

    Subclasses declare the rules and the model; every command goes through `apply`."""

    model_class: ClassVar[type] = Model
    resync_behind: ClassVar[bool] = False
    """Give puppets that reported less than predicted one more sync round (see the
    workflow machine: a Temporal cancel can land just after a sync)."""

    def __init__(self, adapter: PuppetHost) -> None:
        super().__init__()
        self.adapter = adapter
        self.model: Any = self.model_class()
        self.pids: list[PID] = []
        self.ids: dict[str, int] = {}
        self.script: list[Operation] = []
        self.exits: dict[int, dict[str, Any]] = {}
        self.sent: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        self.received: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        self.seq = itertools.count(1)
        self.last: tuple[Operation, Step, dict[str, Any] | None, Batch] | None = None
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
            boot = getattr(adapter, "boot", None)
            if boot is not None:
                self.portal.call(boot)
            self.portal.call(self.harness.start)
        except BaseException:
            self.teardown()
            raise

    async def _make_harness(self) -> Harness:
        return Harness(self.adapter)

    def teardown(self) -> None:
        try:
            if self._node_cm is not None:
                cleanup = getattr(self.adapter, "cleanup", None)
                try:
                    if cleanup is not None:
                        self.portal.call(cleanup, [self.pids[p] for p in sorted(self.model.alive)])
                finally:
                    self._node_cm.__exit__(None, None, None)
        finally:
            self._portal_cm.__exit__(None, None, None)

    def is_local(self, puppet: int) -> bool:
        return True

    # -- issuing operations -----------------------------------------------------------------

    def spawn_puppet(self, kind: str = LOCAL) -> int:
        puppet = len(self.pids)
        self.script.append(Operation("spawn", puppet, value=kind))
        pid = self.portal.call(self._spawn_pid, kind, f"p{puppet}")
        self.pids.append(pid)
        self.ids[str(pid)] = puppet
        self.model.spawn(puppet, kind)
        return puppet

    async def _spawn_pid(self, kind: str, label: str) -> PID:
        return await self.harness.spawn_puppet(label)

    def apply(self, op: Operation) -> Step:
        """Apply `op` to the model, run the same command on the real puppets, and keep both
        for the invariants to compare."""
        self.script.append(op)
        self.before = (set(self.model.monitors), set(self.model.links))
        seqs = [next(self.seq) for _ in range(op.count)] if op.name == "send" else []
        step = op.step(self.model, seqs)
        fields = op.fields(lambda p: self.pids[p], seqs)
        try:
            reply, batch = self.portal.call(self._run_step, step, op.name, fields)
        except AssertionError as exc:  # the harness timed out or a puppet died early
            self._fail(str(exc))
        self.last = (op, step, reply, batch)
        if op.name == "send" and step.reply == "ok" and op.target is not None:
            self.sent[(op.actor, op.target)].extend(seqs)
        if self.is_local(op.actor) and op.target is not None:
            pair = {("link", op.actor, op.target), ("link", op.target, op.actor)}
            if op.name == "link":
                self.severed -= pair
            elif op.name == "unlink":
                self.severed |= pair
            elif op.name == "monitor":
                self.severed.discard(("monitor", op.actor, op.target))
            elif op.name == "unmonitor":
                self.severed.add(("monitor", op.actor, op.target))
        return step

    def apply_and_check(self, op: Operation) -> Step:
        """`apply`, then the checks at once (invariants only see a rule's last command)."""
        step = self.apply(op)
        self.step_matches_model()
        return step

    async def _run_step(
        self, step: Step, op: str, fields: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, Batch]:
        """The command, the deaths it causes, quiet; returns the reply and the batch."""
        harness = self.harness
        reply = await harness.run(self.pids[step.actor], op, fields)
        await harness.wait_exits([self.pids[p] for p in step.deaths])
        try:
            await self.adapter.quiesce(harness, [self.pids[p] for p in sorted(self.model.alive)])
        except AssertionError:
            # A puppet the model keeps alive died: say so in the model's terms.
            died = {self.ids[pid] for pid, _ in harness.log.batch.exits if pid in self.ids}
            if died != set(step.deaths):
                raise AssertionError(
                    f"deaths seen: {self._names(died)}, expected: {self._names(step.deaths)} "
                    f"(links before: {self._pairs(self.before[1])}, traps: "
                    f"{self._names(p for p, trap in self.model.trap.items() if trap)})"
                ) from None
            raise
        if self.resync_behind:
            behind = self._behind(harness.log.batch, step)
            if behind:
                await harness.sync([self.pids[p] for p in behind])
        return reply, harness.log.take()

    def _behind(self, batch: Batch, step: Step) -> list[int]:
        """Live puppets that reported fewer events or messages than the model predicts."""
        reported: Counter[int | None] = Counter(
            self.ids.get(sender) for sender, report in batch.reports if report["type"] != "reply"
        )
        return [
            puppet
            for puppet in sorted(self.model.alive)
            if reported[puppet]
            < sum(step.events.get(puppet, Counter()).values()) + len(step.messages.get(puppet, []))
        ]

    # -- drawing puppets --------------------------------------------------------------------

    def _victim(self, data: st.DataObject) -> int:
        """A live puppet to end, preferably one that others link to or monitor, so that its
        end has consequences to check."""
        model = self.model
        involved = {p for link in model.links for p in link} | {
            p for pair in model.monitors for p in pair
        }
        strategy = st.sampled_from(sorted(model.alive))
        if involved & model.alive:
            strategy = st.sampled_from(sorted(involved & model.alive)) | strategy
        victim: int = data.draw(strategy, label="victim")
        return victim

    def _target(self, data: st.DataObject, *, besides: int | None = None) -> int:
        """Any puppet, dead ones included, but live ones more often: operations on the dead
        are quickly covered, and links and monitors between the living are what matter."""
        everyone = [p for p in range(len(self.pids)) if p != besides]
        living = [p for p in sorted(self.model.alive) if p != besides]
        strategy = st.sampled_from(everyone)
        for preferred in self._preferred_targets(living, everyone):
            if preferred:
                strategy = st.sampled_from(preferred) | strategy
        return data.draw(strategy, label="target")

    def _preferred_targets(self, living: list[int], everyone: list[int]) -> list[list[int]]:
        return [living]

    def _terminate_pair(self, data: st.DataObject) -> tuple[int, int]:
        """Another puppet to terminate, dead ones included, never oneself; and the actor."""
        alive = self.model.alive
        if len(alive) == 1:
            target = self._target(data, besides=next(iter(alive)))
        elif data.draw(st.booleans(), label="any target"):
            target = self._target(data)
        else:
            target = self._victim(data)
        actor = data.draw(st.sampled_from(sorted(alive - {target})), label="actor")
        return actor, target

    # -- checks -----------------------------------------------------------------------------

    @invariant()
    def step_matches_model(self) -> None:
        if self.last is None:
            return
        op, step, reply, batch = self.last
        self.last = None
        try:
            self._check_reply(op, step, reply)
            self._check_deaths(step, batch)
            self._check_observations(step, batch)
        except AssertionError as exc:
            self._fail(str(exc))

    @invariant()
    def messages_keep_per_sender_order(self) -> None:
        for (sender, receiver), seqs in self.received.items():
            if seqs != sorted(set(seqs)) or not set(seqs) <= set(self.sent[(sender, receiver)]):
                self._fail(
                    f"p{receiver} got p{sender}'s messages as {seqs}, "
                    f"expected a subsequence of {self.sent[(sender, receiver)]}"
                )

    def _fail(self, problem: str) -> NoReturn:
        """Every difference is raised here, so Hypothesis sees one failure and shrinks it
        rather than reporting each symptom as a bug of its own."""
        raise Counterexample(self.adapter.name, self.script, problem) from None

    def _check_reply(self, op: Operation, step: Step, reply: dict[str, Any] | None) -> None:
        if reply is None:
            assert step.reply_optional, "no reply"
            return
        error = reply["error"]
        if step.reply == "ok":
            assert reply["ok"], f"reply seen: {error}, expected: ok"
            return
        assert not reply["ok"] and error["kind"] == step.reply, (
            f"reply seen: {reply}, expected: an error of kind {step.reply}"
        )
        if step.reply == NOT_FOUND:
            assert "not found" in error["message"], f"reply seen: {error}, expected 'not found'"

    def _check_deaths(self, step: Step, batch: Batch) -> None:
        exits = {self._id(pid): outcome for pid, outcome in batch.exits}
        assert sorted(exits) == sorted(step.deaths), (
            f"deaths seen: {self._names(exits)}, expected: {self._names(step.deaths)} "
            f"(links before: {self._pairs(self.before[1])})"
        )
        self.exits.update(exits)
        causes: dict[int, int] = {}
        for puppet, death in step.deaths.items():
            outcome = exits[puppet]
            error = outcome["error"]
            what = f"p{puppet} exit seen: {outcome}, expected: {death}"
            if not death.abnormal:
                assert error is None, what
                assert freeze(outcome["value"]) == freeze(death.value), what
                continue
            assert error is not None and error["kind"] == death.kind, what
            if death.how == "error":  # raised by the puppet: only kind and message are ours
                assert error["message"] == death.message, what
                continue
            assert error["retryable"] is False, what  # made by the runtime (lua-api §4.4, §4.5)
            if death.how == "terminated":
                assert error["message"] == death.message, what
                continue
            match = re.fullmatch(r"linked process failed: (.+)", error["message"])
            assert match, what
            cause = self.ids.get(match.group(1))
            assert cause in death.causes, f"{what}; possible causes {self._names(death.causes)}"
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
                assert len(seen) == len(set(seen)), f"cascade causes loop: {seen}"

    def _check_observations(self, step: Step, batch: Batch) -> None:
        events: defaultdict[int, Counter[EventKey]] = defaultdict(Counter)
        messages: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        for sender, report in batch.reports:
            puppet = self._id(sender)
            assert puppet in step.alive_before, f"p{puppet} reported when dead: {report}"
            if report["type"] == "event":
                events[puppet][self._event_key(puppet, report)] += 1
            elif report["type"] == "message":
                source, payload = self._id(report["from"]), report["payload"]
                assert report["topic"] == "msg" and isinstance(payload, dict), (
                    f"p{puppet} got an unexpected message {report}"
                )
                assert payload.get("from") == source, f"{report} is not from p{source}"
                messages[puppet].append((source, payload["seq"]))
                self.received[(source, puppet)].append(payload["seq"])
            else:
                assert report["type"] == "reply", report
        for puppet in step.alive_before:
            expected, got = step.events.get(puppet, Counter()), events[puppet]
            survived = puppet in self.model.alive
            assert got == expected if survived else not got - expected, (
                f"p{puppet} events seen: {describe_events(got)}, "
                f"expected: {describe_events(expected)}; "
                f"monitors before: {sorted(self.before[0])}, links before: "
                f"{self._pairs(self.before[1])}, trap_links: {self.model.trap[puppet]}"
            )
            for source in {s for s, _ in messages[puppet]} | {
                s for s, _ in step.messages.get(puppet, [])
            }:
                got_seqs = [q for s, q in messages[puppet] if s == source]
                want = [q for s, q in step.messages.get(puppet, []) if s == source]
                ok = got_seqs == want if survived else got_seqs == want[: len(got_seqs)]
                assert ok, f"p{puppet} messages from p{source} seen: {got_seqs}, expected: {want}"

    def _event_key(self, puppet: int, report: dict[str, Any]) -> EventKey:
        kind, error = report["kind"], report["error"]
        if kind == CANCEL:
            return (kind, self._id(report["from"]), None, None, report["reason"])
        source = self._id(report["from"])
        assert kind in (EXIT, LINK_DOWN), f"p{puppet} got unknown event {report}"
        self._check_not_severed(puppet, source, kind)
        if error is not None:
            died = self.exits.get(source)
            if error["kind"] == NOT_FOUND:
                assert "not found" in error["message"], f"{report}"
            else:
                assert died is not None and died["error"] == error, (
                    f"p{puppet} saw {kind} from p{source} with {error}, "
                    f"but p{source} exited with {died}"
                )
        value = freeze(report["value"]) if kind == EXIT and error is None else None
        return (kind, source, error and error["kind"], value, None)

    def _check_not_severed(self, puppet: int, source: int, kind: str) -> None:
        link = "monitor" if kind == EXIT else "link"
        assert (link, puppet, source) not in self.severed, (
            f"p{puppet} got {kind} from p{source} after un{link}"
        )

    def _id(self, pid: str | None) -> int:
        assert pid in self.ids, f"unknown PID {pid}"
        return self.ids[pid]

    @staticmethod
    def _names(puppets: Any) -> str:
        """`[p0, p2]`."""
        return "[" + ", ".join(f"p{p}" for p in sorted(puppets)) + "]"

    @staticmethod
    def _pairs(links: set[frozenset[int]]) -> list[tuple[int, ...]]:
        return sorted(tuple(sorted(link)) for link in links)


def describe_events(events: Counter[EventKey]) -> str:
    """Events as `EXIT from p1 (Internal)`, `CANCEL from p0 ('stop')`, with counts."""
    if not events:
        return "none"
    parts = []
    for (kind, source, error, value, reason), count in sorted(events.items(), key=repr):
        who = "the server" if source < 0 else f"p{source}"
        detail = error or (value if value is not None else None)
        if kind == CANCEL:
            detail = repr(reason)
        text = f"{kind} from {who}" + (f" ({detail})" if detail is not None else "")
        parts.append(text + (f" x{count}" if count > 1 else ""))
    return ", ".join(parts)


def has_live(machine: PuppetMachine) -> bool:
    return bool(machine.model.alive)


class LinksMonitors(PuppetMachine):
    """Every puppet alike (one host, or several that behave the same): the model of
    lua-api §4.4–4.6."""

    @initialize(count=st.integers(2, 5), wiring=WIRING, traps=TRAPS)
    def start(self, count: int, wiring: list[tuple[int, int, str]], traps: set[int]) -> None:
        """Spawn a few puppets and wire a random topology of links, monitors and traps, so
        that most examples reach interesting deaths within their steps. Wiring is a list
        (pairs out of range are skipped) so that it shrinks by dropping links, whatever
        `count` shrinks to."""
        for _ in range(count):
            self.spawn_puppet()
        for a, b, op in wiring:
            if a < count and b < count and a != b:
                self.apply_and_check(Operation(op, a, b))
        for puppet in sorted(traps):
            if puppet < count:
                self.apply_and_check(Operation("trap", puppet, value=True))

    def _actor(self, data: st.DataObject) -> int:
        actor: int = data.draw(st.sampled_from(sorted(self.model.alive)), label="actor")
        return actor

    @precondition(
        lambda self: (
            not self.model.alive
            or (len(self.model.alive) < MAX_LIVE and len(self.pids) < MAX_PUPPETS)
        )
    )
    @rule()
    def spawn(self) -> None:
        self.spawn_puppet()

    def _pair_op(self, name: str, data: st.DataObject) -> None:
        self.apply(Operation(name, self._actor(data), self._target(data)))

    @precondition(has_live)
    @rule(data=st.data())
    def link(self, data: st.DataObject) -> None:
        self._pair_op("link", data)

    @precondition(has_live)
    @rule(data=st.data())
    def unlink(self, data: st.DataObject) -> None:
        self._pair_op("unlink", data)

    @precondition(has_live)
    @rule(data=st.data())
    def monitor(self, data: st.DataObject) -> None:
        self._pair_op("monitor", data)

    @precondition(has_live)
    @rule(data=st.data())
    def unmonitor(self, data: st.DataObject) -> None:
        self._pair_op("unmonitor", data)

    @precondition(has_live)
    @rule(data=st.data(), value=st.booleans())
    def trap_links(self, data: st.DataObject, value: bool) -> None:
        self.apply(Operation("trap", self._actor(data), value=value))

    @precondition(has_live)
    @rule(data=st.data(), count=st.integers(1, 4))
    def send(self, data: st.DataObject, count: int) -> None:
        """A burst of messages in one command, so several wait in the receiver's queue."""
        self.apply(Operation("send", self._actor(data), self._target(data), count=count))

    @precondition(has_live)
    @rule(data=st.data(), n=st.integers(0, 3), kind=st.none() | st.sampled_from(ERROR_KINDS))
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
        actor, target = self._actor(data), self._target(data)
        self.apply(Operation("cancel", actor, target, reason=reason))


def run_machine(
    adapter: PuppetHost,
    settings: settings | None = None,
    machine: type[PuppetMachine] = LinksMonitors,
) -> None:
    """Run the state machine against `adapter`; raises `Counterexample` (shrunk) on a
    difference from the model."""
    # Hypothesis takes any factory of machines; its stubs say the class.
    factory: Any = lambda: machine(adapter)  # noqa: E731
    run_state_machine_as_test(factory, settings=settings or DEFAULT_SETTINGS)


def run_script(
    adapter: PuppetHost,
    script: Sequence[Operation],
    machine: type[PuppetMachine] = LinksMonitors,
) -> None:
    """Run one fixed script (a `Counterexample`'s, or one drawn from `operation_scripts`)
    against `adapter`, checking every step. Operations whose actor is dead or not spawned
    yet are skipped, so any script drawn from the strategy is runnable."""
    runner = machine(adapter)
    try:
        for op in script:
            if op.name == "spawn":
                while len(runner.pids) <= op.actor:
                    runner.spawn_puppet(op.value or LOCAL)
                continue
            known = op.target is None or op.target < len(runner.pids)
            if op.actor not in runner.model.alive or not known:
                continue
            if op.name == "terminate" and op.actor == op.target:
                continue
            runner.apply_and_check(op)
            runner.messages_keep_per_sender_order()
    finally:
        runner.teardown()
