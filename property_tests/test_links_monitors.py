"""Links, monitors, trap_links, cancel and terminate against a reference model, on every host.

A Hypothesis state machine drives puppets (see `puppets.py`) through the Host contract only:
each rule sends one command to one live puppet, waits for the deaths the model predicts and
for quiet, then compares everything observed in that step with the model's prediction:

- the command's reply (ok, or the error kind);
- every death: who, and with what value or error (kind, message, cascade details);
- every event each puppet saw (kind, source, error kind, value, cancel reason), exactly for
  survivors; a puppet that died in the step may have missed some;
- every message, per sender in send order.

Since predictions are exact, nothing may arrive after `unlink` / `unmonitor`: such an event
would be one the model did not predict. Adding a host is one entry in `ADAPTERS`.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

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

from actors.messages import CANCEL, EXIT, LINK_DOWN
from actors.pid import PID
from property_tests.lua_puppets import LuaPuppets
from property_tests.model import NOT_FOUND, Death, EventKey, Model, Step, freeze
from property_tests.puppets import Batch, Harness, PuppetHost, PythonPuppets

ADAPTERS: list[PuppetHost] = [PythonPuppets(), LuaPuppets()]

MAX_LIVE = 6
MAX_PUPPETS = 10
ERROR_KINDS = ("Internal", "Unavailable", "Timeout", "Conflict")
REASONS = ("", "stop", "please wrap up")


def has_live(machine: LinksMonitors) -> bool:
    return bool(machine.model.alive)


class LinksMonitors(RuleBasedStateMachine):
    def __init__(self, adapter: PuppetHost) -> None:
        super().__init__()
        self.adapter = adapter
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
            self.portal.call(self.harness.start)
        except BaseException:
            self.teardown()
            raise

    async def _make_harness(self) -> Harness:
        return Harness(self.adapter)

    def teardown(self) -> None:
        try:
            if self._node_cm is not None:
                self._node_cm.__exit__(None, None, None)
        finally:
            self._portal_cm.__exit__(None, None, None)

    # -- drawing puppets --------------------------------------------------------------------

    def _actor(self, data: st.DataObject) -> int:
        return data.draw(st.sampled_from(sorted(self.model.alive)), label="actor")

    def _victim(self, data: st.DataObject) -> int:
        """A live puppet to exit, preferably one with links or monitors, so that its death
        has consequences to check."""
        model = self.model
        involved = {p for link in model.links for p in link} | {
            p for pair in model.monitors for p in pair
        }
        strategy = st.sampled_from(sorted(model.alive))
        if involved & model.alive:
            strategy = st.sampled_from(sorted(involved & model.alive)) | strategy
        return data.draw(strategy, label="victim")

    def _target(self, data: st.DataObject, *, besides: int | None = None) -> int:
        """Any puppet, dead ones included, but live ones more often: operations on the dead
        are quickly covered, and links and monitors between the living are what matter."""
        everyone = [p for p in range(len(self.pids)) if p != besides]
        living = [p for p in sorted(self.model.alive) if p != besides]
        strategy = st.sampled_from(everyone)
        if living:
            strategy = st.sampled_from(living) | strategy
        return data.draw(strategy, label="target")

    def _spawn(self) -> None:
        puppet = len(self.pids)
        pid = self.portal.call(self.harness.spawn_puppet, f"p{puppet}")
        self.pids.append(pid)
        self.ids[str(pid)] = puppet
        self.model.spawn(puppet)

    def _do(self, op: str, change: Callable[[Model], Step], **fields: Any) -> Step:
        """Apply `change` to the model, run the same command on the real puppets, and keep
        both for the invariants to compare."""
        self.before = (set(self.model.monitors), set(self.model.links))
        step = change(self.model)
        deaths = [self.pids[p] for p in step.deaths]
        live = [self.pids[p] for p in sorted(self.model.alive)]
        reply, batch = self.portal.call(
            self.harness.step, self.pids[step.actor], op, fields, deaths, live
        )
        self.last = (op, fields, step, reply, batch)
        return step

    # -- rules ------------------------------------------------------------------------------

    @initialize(count=st.integers(2, 5), data=st.data())
    def start(self, count: int, data: st.DataObject) -> None:
        """Spawn a few puppets and wire a random topology of links, monitors and traps, so
        that most examples reach interesting deaths within their steps."""
        for _ in range(count):
            self._spawn()
        pairs = [(a, b) for a in range(count) for b in range(count) if a != b]
        for a, b in pairs:
            wiring = data.draw(st.sampled_from(("", "link", "monitor")), label=f"p{a}->p{b}")
            if wiring:
                change = functools.partial(getattr(Model, wiring), actor=a, target=b)
                self._do(wiring, change, target=str(self.pids[b]))
                self.step_matches_model()  # invariants only see a rule's last command
        for puppet in range(count):
            if data.draw(st.booleans(), label=f"p{puppet} traps"):
                change = functools.partial(Model.set_trap, actor=puppet, value=True)
                self._do("trap", change, value=True)
                self.step_matches_model()

    @precondition(
        lambda self: (
            not self.model.alive
            or (len(self.model.alive) < MAX_LIVE and len(self.pids) < MAX_PUPPETS)
        )
    )
    @rule()
    def spawn(self) -> None:
        self._spawn()

    @precondition(has_live)
    @rule(data=st.data())
    def link(self, data: st.DataObject) -> None:
        actor, target = self._actor(data), self._target(data)
        self._do("link", lambda m: m.link(actor, target), target=str(self.pids[target]))
        self.severed -= {("link", actor, target), ("link", target, actor)}

    @precondition(has_live)
    @rule(data=st.data())
    def unlink(self, data: st.DataObject) -> None:
        actor, target = self._actor(data), self._target(data)
        self._do("unlink", lambda m: m.unlink(actor, target), target=str(self.pids[target]))
        self.severed |= {("link", actor, target), ("link", target, actor)}

    @precondition(has_live)
    @rule(data=st.data())
    def monitor(self, data: st.DataObject) -> None:
        actor, target = self._actor(data), self._target(data)
        self._do("monitor", lambda m: m.monitor(actor, target), target=str(self.pids[target]))
        self.severed.discard(("monitor", actor, target))

    @precondition(has_live)
    @rule(data=st.data())
    def unmonitor(self, data: st.DataObject) -> None:
        actor, target = self._actor(data), self._target(data)
        self._do("unmonitor", lambda m: m.unmonitor(actor, target), target=str(self.pids[target]))
        self.severed.add(("monitor", actor, target))

    @precondition(has_live)
    @rule(data=st.data(), value=st.booleans())
    def trap_links(self, data: st.DataObject, value: bool) -> None:
        actor = self._actor(data)
        self._do("trap", lambda m: m.set_trap(actor, value), value=value)

    @precondition(has_live)
    @rule(data=st.data(), count=st.integers(1, 4))
    def send(self, data: st.DataObject, count: int) -> None:
        """A burst of messages in one command, so several wait in the receiver's queue."""
        actor, target = self._actor(data), self._target(data)
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
    @rule(data=st.data(), n=st.integers(0, 3), kind=st.none() | st.sampled_from(ERROR_KINDS))
    def exit(self, data: st.DataObject, n: int, kind: str | None) -> None:
        """Exit normally with a value (kind None) or by raising an error of that kind."""
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
        actor, target = self._actor(data), self._target(data)
        target_pid = str(self.pids[target])
        self._do(
            "cancel", lambda m: m.cancel(actor, target, reason), target=target_pid, reason=reason
        )

    # -- checks -----------------------------------------------------------------------------

    @invariant()
    def step_matches_model(self) -> None:
        if self.last is None:
            return
        op, fields, step, reply, batch = self.last
        self.last = None
        where = f"after {op} by p{step.actor} {fields}"
        self._check_reply(where, step, reply)
        self._check_deaths(where, step, batch)
        self._check_observations(where, step, batch)

    @invariant()
    def messages_keep_per_sender_order(self) -> None:
        for (sender, receiver), seqs in self.received.items():
            assert seqs == sorted(set(seqs)), f"p{receiver} got p{sender}'s messages as {seqs}"
            assert set(seqs) <= set(self.sent[(sender, receiver)])

    def _check_reply(self, where: str, step: Step, reply: dict[str, Any] | None) -> None:
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
            assert error["retryable"] is False, what  # made by the runtime (lua-api §4.4, §4.5)
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
            assert got == expected if survived else not got - expected, (
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
        source = self._id(where, report["from"])
        if kind == CANCEL:
            return (kind, source, None, None, report["reason"])
        assert kind in (EXIT, LINK_DOWN), f"{where}: p{puppet} got unknown event {report}"
        link = "monitor" if kind == EXIT else "link"
        assert (link, puppet, source) not in self.severed, (
            f"{where}: p{puppet} got {kind} from p{source} after un{link}"
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


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda adapter: adapter.name)
def test_links_and_monitors(adapter: PuppetHost, machine_settings: settings) -> None:
    run_state_machine_as_test(lambda: LinksMonitors(adapter), settings=machine_settings)
