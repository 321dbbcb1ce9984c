"""The node's name registry: names are held by live processes and released when they exit.

On a single node every scope behaves like LOCAL (lua-api §4.9), but the scope a name was
registered in still has to match on `unregister`.
"""

from __future__ import annotations

from collections import defaultdict

import attrs

from actors.errors import ALREADY_EXISTS, error, not_found
from actors.pid import PID

LOCAL, EVENTUAL, CONSISTENT, STRONG = 0, 1, 2, 3


@attrs.define
class NameRegistry:
    _owners: dict[str, tuple[PID, int]] = attrs.field(factory=dict)
    _names_of: defaultdict[PID, set[str]] = attrs.field(factory=lambda: defaultdict(set))

    def register(self, name: str, pid: PID, scope: int = LOCAL) -> None:
        """Idempotent for the same PID; `AlreadyExists` when another PID holds the name."""
        held = self._owners.get(name)
        if held is not None and held[0] != pid:
            raise error(ALREADY_EXISTS, f"name already registered: {name}", holder=str(held[0]))
        self._owners[name] = (pid, scope)
        self._names_of[pid].add(name)

    def lookup(self, name: str) -> PID:
        held = self._owners.get(name)
        if held is None:
            raise not_found(f"could not resolve: {name}")
        return held[0]

    def unregister(self, name: str, scope: int | None = None) -> bool:
        held = self._owners.get(name)
        if held is None or (scope is not None and held[1] != scope):
            return False
        del self._owners[name]
        self._forget(held[0], name)
        return True

    def release(self, pid: PID) -> None:
        """Drop every name `pid` holds; called when it exits."""
        for name in self._names_of.pop(pid, ()):
            self._owners.pop(name, None)

    def names_of(self, pid: PID) -> set[str]:
        return set(self._names_of.get(pid, ()))

    def _forget(self, pid: PID, name: str) -> None:
        names = self._names_of.get(pid)
        if names is not None:
            names.discard(name)
            if not names:
                del self._names_of[pid]
