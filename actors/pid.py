"""Process identifiers: `{[node@]host|id}`, parsed and formatted here and nowhere else.

To Lua a PID is an opaque string compared with `==`, so one process must always render as
the same string. Parsing is cached because every send from Lua hands us the string form.
"""

from __future__ import annotations

import functools
import secrets

import attrs

from actors.errors import invalid

__all__ = ["PID", "SYSTEM", "local_id"]


@attrs.frozen(order=True, repr=False)
class PID:
    """A process address. `node` is empty for this node; `host` names the host entry."""

    host: str
    id: str
    node: str = ""

    def __str__(self) -> str:
        return _format(self.node, self.host, self.id)

    def __repr__(self) -> str:
        return f"PID({self})"

    @staticmethod
    def parse(text: str) -> PID:
        """Parse `{[node@]host|id}`; anything else raises `Invalid` naming the bad string."""
        return _parse(text)

    @property
    def incarnation(self) -> str:
        """The boot of its node a local-host PID was made in (`""` for other PIDs)."""
        return _incarnation(self.id)

    @staticmethod
    def is_pid_string(text: str) -> bool:
        """A destination string in braces is a PID; without braces it is a registered name."""
        return len(text) >= 2 and text[0] == "{" and text[-1] == "}"


def _format(node: str, host: str, id_: str) -> str:
    return f"{{{node}@{host}|{id_}}}" if node else f"{{{host}|{id_}}}"


@functools.lru_cache(maxsize=65536)
def _incarnation(id_: str) -> str:
    """Cached: every send to another node checks it (`RemoteNode.reaches`), on the path of
    each message between nodes."""
    counter, dot, incarnation = id_.partition(".")
    return incarnation if dot and counter.startswith("0x") else ""


@functools.lru_cache(maxsize=65536)
def _parse(text: str) -> PID:
    if not isinstance(text, str) or not PID.is_pid_string(text):
        raise invalid(f"invalid PID {text!r}: expected {{[node@]host|id}}")
    inner = text[1:-1]
    if inner.count("|") != 1:
        raise invalid(f"invalid PID {text!r}: expected exactly one '|' between host and id")
    left, id_ = inner.split("|")
    node, host = left.split("@", 1) if "@" in left else ("", left)
    if not id_:
        raise invalid(f"invalid PID {text!r}: empty process id")
    if "@" in left and not node:
        raise invalid(f"invalid PID {text!r}: empty node before '@'")
    return PID(host=host, id=id_, node=node)


SYSTEM = PID(host="", id="topology")
"""The sender of runtime-generated events (shutdown CANCEL), as the reference renders it."""


INCARNATION_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
"""Crockford's base 32: lowercase, no letters that read like digits."""


def new_incarnation() -> str:
    """A fresh tag for one boot of a node: 6 random base-32 characters (30 bits).

    Erlang calls it the node's *creation*. It is part of every local PID the node makes,
    so a PID from an earlier boot never names a process of this one: counters restart at 1
    on every boot, and without the tag a workflow's reply to a requester that died with the
    old boot would reach whichever new process got the same counter.
    """
    return "".join(secrets.choice(INCARNATION_ALPHABET) for _ in range(6))


def local_id(counter: int, incarnation: str = "") -> str:
    """Render a per-host counter as `0x00001` (the width grows to 6, 8 then 16 hex digits),
    followed by `.<incarnation>` when one is given: `0x00001.k3f9qz`."""
    for width in (5, 6, 8):
        if counter < 16**width:
            text = f"0x{counter:0{width}x}"
            break
    else:
        text = f"0x{counter:016x}"
    return f"{text}.{incarnation}" if incarnation else text
