"""What the data modules use of the module contract (`lua_bindings.contract.ModuleHost`),
in the shapes they need: the caller and its entry, entry-id arguments, exit hooks, parking,
and the table of process-owned handles (`Owned`). Replies use the contract's `reply` and
`nil_on_error`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from actors.errors import invalid
from actors.pid import PID
from actors.registry import Entry, Registry
from lua_bindings.contract import Reply
from lua_bindings.convert import lua_type_name, text

if TYPE_CHECKING:
    from lua_bindings.contract import ModuleHost

T = TypeVar("T")


class Bridge:
    """What a data module may do with the host that loaded it."""

    def __init__(self, host: ModuleHost) -> None:
        self._host = host

    @property
    def registry(self) -> Registry:
        return self._host.registry

    @property
    def cpu_budget(self) -> float | None:
        """Seconds of CPU a process of the host may run without yielding (None: no limit);
        work a module does inline, on the caller's turn, counts against it."""
        return self._host.cpu_budget

    def restart_budget(self) -> None:
        """Inline work stopped at `cpu_budget` and reported it: a fresh budget for the rest
        of the step, so the module's error is the one the process fails with."""
        self._host.restart_budget()

    def lua(self, value: Any) -> Any:
        """`value` (plain Python data) as a Lua value."""
        return self._host.lua(value)

    def caller(self) -> tuple[PID, Entry | None]:
        """The calling process and its entry (raises `Invalid` outside any process)."""
        process = self._host.current
        return process.pid, process.entry

    def entry_id(self, value: Any, what: str) -> str:
        """An entry id argument; one without a namespace is in the caller's namespace."""
        ref = string(value, f"{what} id")
        if not ref:
            raise invalid(f"{what} id is empty")
        _, entry = self.caller()
        return entry.resolve_ref(ref) if entry is not None else ref

    def at_exit(self, pid: PID, callback: Callable[[], None]) -> Callable[[], None] | None:
        """Call `callback()` when process `pid` exits; returns a function that withdraws it."""
        return self._host.on_exit(pid, lambda _event: callback())

    def background(self, work: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run `work()` on the event loop, owned by nobody (cleanup after an exit)."""
        self._host.node.start_soon(work)

    def park(self) -> Callable[..., bool]:
        """Park the calling task; the returned function resumes it with its arguments (as
        the task's return values), once, on the event loop's thread. The module function
        then returns `PARKED`."""
        return self._host.park().fire

    def blocking(
        self,
        work: Coroutine[Any, Any, Any],
        on_ok: Callable[[Any], Reply] = lambda _: (True,),
    ) -> Reply:
        """Park the calling task until `work` finishes on the event loop; `rt.await` in Lua
        turns this into `on_ok(result)` or `nil, err` (an `ActorError` keeps its kind)."""
        return self._host.call(work, False, on_ok)


def string(value: Any, what: str) -> str:
    """A Lua string argument as text; `Invalid` naming `what` for anything else."""
    if not isinstance(value, bytes | str):
        raise invalid(f"{what} must be a string, got {lua_type_name(value)}")
    return text(value)


class Owned(Generic[T]):
    """Objects processes hold through numbered handles (databases, transactions, open
    files): each belongs to the process that made it, only that process may use it, and
    when it exits every one it still holds is dropped (`on_drop`: roll back, close)."""

    def __init__(self, bridge: Bridge, what: str, on_drop: Callable[[T], None]) -> None:
        self._bridge = bridge
        self._what = what
        self._on_drop = on_drop
        self._items: dict[int, tuple[PID, T]] = {}
        self._by_owner: dict[PID, set[int]] = {}
        self._next = 0

    def add(self, item: T, owner: PID | None = None) -> int:
        """A handle for `item`, owned by `owner` (default: the caller). An owner that has
        exited meanwhile (a `begin` answered after its process died) gets none: the item is
        dropped at once and the handle is 0."""
        if owner is None:
            owner = self._bridge.caller()[0]
        numbers = self._by_owner.get(owner)
        if numbers is None:
            if self._bridge.at_exit(owner, lambda: self._exited(owner)) is None:
                self._on_drop(item)
                return 0
            numbers = self._by_owner[owner] = set()
        self._next += 1
        self._items[self._next] = (owner, item)
        numbers.add(self._next)
        return self._next

    def get(self, number: Any) -> T:
        found = self._items.get(number) if isinstance(number, int) else None
        if found is None:
            raise invalid(f"{self._what} is closed or released")
        if found[0] != self._bridge.caller()[0]:
            raise invalid(f"{self._what} belongs to another process")
        return found[1]

    def remove(self, number: Any) -> T | None:
        """Forget a handle of the caller's (idempotent); the item is returned, not dropped."""
        found = self._items.get(number) if isinstance(number, int) else None
        if found is None or found[0] != self._bridge.caller()[0]:
            return None
        del self._items[number]
        self._by_owner.get(found[0], set()).discard(number)
        return found[1]

    def _exited(self, owner: PID) -> None:
        for number in self._by_owner.pop(owner, ()):
            found = self._items.pop(number, None)
            if found is not None:
                self._on_drop(found[1])
