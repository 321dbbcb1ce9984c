"""The reference model of links and monitors (lua-api §4.4-§4.6), independent of any host.

Public as `actors.testing.Model`: a custom host is checked against it by `run_machine`.

Puppets are small integers. Each operation returns a `Step`: what the command should reply,
who should die and how, and which events and messages each puppet should see. The model
applies exits through a queue, like the runtime, but never depends on its order: where the
runtime may legitimately pick one of several outcomes (which failed peer a cascaded process
names as its cause), the step lists every acceptable one. What an exit sets off follows the
runtime's exit rule, whose table the model reads from `actors/exits.py` (`link_notice`,
`on_link_down`), so the model and every host state one table.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from typing import Any

import attrs

from actors.exits import LINKS_REACH, LinkDown, LinkNotice, Source, link_notice, on_link_down
from actors.messages import CANCEL, EXIT, LINK_DOWN

CANCELED = "Canceled"
NOT_FOUND = "NotFound"

EventKey = tuple[str, int, str | None, str | None, str | None]
"""(kind, source puppet, error kind, frozen value, cancel reason): what must match exactly."""


def freeze(value: Any) -> str:
    """A comparable form of a value that crossed a process boundary."""
    return json.dumps(value, sort_keys=True, default=repr)


@attrs.frozen
class Death:
    how: str
    """"normal", "error", "terminated" or "cascade"."""
    value: Any = None
    kind: str | None = None
    message: str | None = None
    causes: frozenset[int] = frozenset()
    """For a cascade: the linked peers whose failure may have been the one that killed it."""

    @property
    def abnormal(self) -> bool:
        return self.how != "normal"


@attrs.define
class Step:
    actor: int
    alive_before: frozenset[int]
    reply: str = "ok"
    """"ok", or the error kind the command must fail with."""
    deaths: dict[int, Death] = attrs.field(factory=dict)
    events: dict[int, Counter[EventKey]] = attrs.field(factory=dict)
    messages: dict[int, list[tuple[int, int]]] = attrs.field(factory=dict)

    def event(self, receiver: int, key: EventKey) -> None:
        self.events.setdefault(receiver, Counter())[key] += 1

    @property
    def reply_optional(self) -> bool:
        """A puppet killed by its own command may die before it replies."""
        death = self.deaths.get(self.actor)
        return death is not None and death.how == "cascade"


@attrs.define
class Model:
    alive: set[int] = attrs.field(factory=set)
    trap: dict[int, bool] = attrs.field(factory=dict)
    links: set[frozenset[int]] = attrs.field(factory=set)
    monitors: set[tuple[int, int]] = attrs.field(factory=set)
    """(watcher, target) pairs."""
    deaths: dict[int, Death] = attrs.field(factory=dict)
    """How each dead puppet died."""

    def spawn(self, puppet: int, kind: str = "local") -> None:
        """A new live puppet (`kind` is for models with more than one kind of process)."""
        self.alive.add(puppet)
        self.trap[puppet] = False

    def source(self, puppet: int) -> Source:
        """What kind of process `puppet` is, for the exit rule (here: all are processes)."""
        return Source.PROCESS

    def _step(self, actor: int) -> Step:
        assert actor in self.alive, f"p{actor} cannot act: it is dead"
        return Step(actor, frozenset(self.alive))

    # -- commands ---------------------------------------------------------------------------

    def link(self, actor: int, target: int) -> Step:
        step = self._step(actor)
        if target not in self.alive:
            step.reply = NOT_FOUND
        elif target != actor:
            self.links.add(frozenset((actor, target)))
        return step

    def unlink(self, actor: int, target: int) -> Step:
        step = self._step(actor)
        self.links.discard(frozenset((actor, target)))
        return step

    def monitor(self, actor: int, target: int) -> Step:
        step = self._step(actor)
        if target in self.alive:
            self.monitors.add((actor, target))
        else:
            step.event(actor, (EXIT, target, NOT_FOUND, None, None))
        return step

    def unmonitor(self, actor: int, target: int) -> Step:
        step = self._step(actor)
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
        if target in self.alive:
            step.event(target, (CANCEL, actor, None, None, reason))
        else:
            step.reply = NOT_FOUND
        return step

    def terminate(self, actor: int, target: int) -> Step:
        step = self._step(actor)
        if target in self.alive:
            death = Death("terminated", kind=CANCELED, message="process terminated")
            self._die(step, target, death)
        else:
            step.reply = NOT_FOUND
        return step

    def exit(self, actor: int, death: Death) -> Step:
        step = self._step(actor)
        self._die(step, actor, death)
        return step

    # -- exits ------------------------------------------------------------------------------

    def kill(self, victims: list[int], death: Death) -> Step:
        """Several puppets die at once with the same error (their node went down): none of
        them is a cascade of another."""
        step = Step(-1, frozenset(self.alive))
        self._die(step, victims, death)
        return step

    def _die(self, step: Step, victims: int | list[int], death: Death) -> None:
        """Apply an exit and everything it sets off, through a queue as the runtime does:
        EXIT to watchers, what `link_notice` gives each linked peer (EXIT, or LINK_DOWN to
        a trapping peer and the cascade death of the others), nothing where the peer's
        kind is out of reach of links (`LINKS_REACH`)."""
        linked_before = set(self.links)
        queue = deque([victims] if isinstance(victims, int) else victims)
        for victim in queue:
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
                    continue
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
        name_cascade_causes(step, linked_before)

    def _mark_dead(self, step: Step, puppet: int, death: Death) -> None:
        self.alive.discard(puppet)
        self.deaths[puppet] = death
        step.deaths[puppet] = death


def name_cascade_causes(step: Step, linked_before: set[frozenset[int]]) -> None:
    """Any abnormally dying peer linked to a cascaded process may be the one its error
    names: record them all as its possible causes."""
    for puppet, death in list(step.deaths.items()):
        if death.how == "cascade":
            causes = frozenset(
                peer
                for peer, other in step.deaths.items()
                if other.abnormal and peer != puppet and frozenset((peer, puppet)) in linked_before
            )
            step.deaths[puppet] = attrs.evolve(death, causes=causes)
