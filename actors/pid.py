"""Process identifiers: `{[node@]host|id}`, parsed and formatted here and nowhere else.

To Lua a PID is an opaque string compared with `==`, so one process must always render as
the same string. Parsing is cached because every send from Lua hands us the string form.
"""

from __future__ import annotations

import functools

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

    @staticmethod
    def is_pid_string(text: str) -> bool:
        """A destination string in braces is a PID; without braces it is a registered name."""
        return len(text) >= 2 and text[0] == "{" and text[-1] == "}"


def _format(node: str, host: str, id_: str) -> str:
    return f"{{{node}@{host}|{id_}}}" if node else f"{{{host}|{id_}}}"


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


def local_id(counter: int) -> str:
    """Render a per-host counter as `0x00001`; the width grows to 6, 8 then 16 hex digits."""
    for width in (5, 6, 8):
        if counter < 16**width:
            return f"0x{counter:0{width}x}"
    return f"0x{counter:016x}"
