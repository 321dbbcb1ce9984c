"""Operations on puppets: one value per command, readable as a script and re-runnable.

The state machines build an `Operation` for every command they issue and keep the list; a
failing example prints that list (the shrunk one, when Hypothesis found it) as a script such
as ``p0 = spawn()``, ``p0.link(p1)``, ``p1.exit(error=Internal('boom'))``. `repr` gives the
constructor form, so a script can be pasted into `run_script` to replay the failure.
"""

from __future__ import annotations

from typing import Any

import attrs

from actors.testing.model import Death, Step

LOCAL = "local"
WORKFLOW = "workflow"

PAIR_OPS = ("link", "unlink", "monitor", "unmonitor", "terminate")
"""Operations of an actor on a target and nothing else."""
NAMES = (*PAIR_OPS, "spawn", "trap", "send", "exit", "cancel")


@attrs.frozen(repr=False)
class Operation:
    """One command to puppet `actor` (or, for `spawn`, the puppet it creates)."""

    name: str = attrs.field(validator=attrs.validators.in_(NAMES))
    actor: int = 0
    target: int | None = None
    value: Any = None
    """`trap`: the flag; `exit`: the value of a normal exit; `spawn`: the kind."""
    error: tuple[str, str] | None = None
    """`exit`: (kind, message) to raise instead of returning."""
    reason: str = ""
    """`cancel`: the reason."""
    count: int = 1
    """`send`: how many messages in one burst."""

    def step(self, model: Any, seqs: list[int]) -> Step:
        """Apply to a model (the local one or the workflow one: both have these methods)."""
        step: Step
        if self.name in PAIR_OPS:
            step = getattr(model, self.name)(self.actor, self.target)
        elif self.name == "trap":
            step = model.set_trap(self.actor, bool(self.value))
        elif self.name == "send":
            step = model.send(self.actor, self.target, seqs)
        elif self.name == "cancel":
            step = model.cancel(self.actor, self.target, self.reason)
        elif self.name == "exit":
            step = model.exit(self.actor, self.death)
        else:
            raise ValueError(f"{self.name} is not a command")
        return step

    @property
    def death(self) -> Death:
        if self.error is None:
            return Death("normal", value=self.value)
        return Death("error", kind=self.error[0], message=self.error[1])

    def fields(self, pid_of: Any, seqs: list[int]) -> dict[str, Any]:
        """The fields of the `cmd` message of the puppet protocol (`puppets.py`)."""
        fields: dict[str, Any] = {}
        if self.target is not None:
            fields["target"] = str(pid_of(self.target))
        if self.name == "trap":
            fields["value"] = bool(self.value)
        elif self.name == "send":
            fields["topic"] = "msg"
            fields["payloads"] = [{"seq": seq, "from": self.actor} for seq in seqs]
        elif self.name == "cancel":
            fields["reason"] = self.reason
        elif self.name == "exit":
            if self.error is None:
                fields["value"] = self.value
            else:
                fields["error"] = {"kind": self.error[0], "message": self.error[1]}
        return fields

    def __str__(self) -> str:
        if self.name == "spawn":
            suffix = "" if self.value in (None, LOCAL) else f"_{self.value}"
            return f"p{self.actor} = spawn{suffix}()"
        args: list[str] = []
        if self.target is not None:
            args.append(f"p{self.target}")
        if self.name == "trap":
            return f"p{self.actor}.trap_links({bool(self.value)})"
        if self.name == "send":
            args.append(f"{self.count} message{'s' if self.count != 1 else ''}")
        elif self.name == "cancel":
            args.append(f"reason={self.reason!r}")
        elif self.name == "exit":
            if self.error is None:
                args.append(f"value={self.value!r}")
            else:
                args.append(f"error={self.error[0]}({self.error[1]!r})")
        return f"p{self.actor}.{self.name}({', '.join(args)})"

    def __repr__(self) -> str:
        parts = [repr(self.name), str(self.actor)]
        for field in attrs.fields(Operation)[2:]:
            value = getattr(self, field.name)
            if value != field.default:
                parts.append(f"{field.name}={value!r}")
        return f"Operation({', '.join(parts)})"


def spawn(puppet: int, kind: str = LOCAL) -> Operation:
    return Operation("spawn", puppet, value=kind)
