"""`process` inside a workflow (temporal.md §4, §6, §10, §11.4, §12).

Mailbox channels (`inbox`, `listen`, `unlisten`), options and identity work as in any
process: the workflow is one Lua process whose mailbox receives signals, timer fires and
child exits. Everything that reaches outside becomes a Temporal command (`commands.py`):
sends, spawns and exec (child workflows), cancel and terminate, upgrade (continue-as-new).
Monitor and link are
rejected (children are always monitored; Temporal has no bidirectional links), and so is the
name registry, which is live node state that a replay could not reproduce.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import ActorError, Error
from lua_bindings.convert import from_lua, text
from lua_bindings.gotime import UTC
from lua_bindings.modules import LuaModule
from lua_bindings.modules.process import FUNCTION_NAMES, ProcessFunctions

if TYPE_CHECKING:
    from temporal_host.driver import WorkflowLuaHost

_LINK = "{name} not supported in workflow context: Temporal doesn't support bidirectional linking"
_MONITOR = "{name} not supported in workflow context: child workflows are automatically monitored"


def _invalid(message: str) -> tuple[Any, ...]:
    return 1, None, Error(message, errors.INVALID, False)


class WorkflowProcessFunctions(ProcessFunctions):
    """The stock functions minus the node: every outside effect goes through `commands`."""

    event_zone = UTC

    def __init__(self, host: WorkflowLuaHost) -> None:  # no super(): there is no node here
        self.host = host
        self.commands = host.run.commands

    # -- messages -------------------------------------------------------------------------------

    def send(self, dest: Any, topic: Any, value: Any) -> tuple[Any, ...]:
        try:
            if not isinstance(topic, bytes | str) or not topic:
                raise ActorError(Error("topic cannot be empty", errors.INVALID, False))
            if text(topic).startswith("@"):
                raise ActorError(Error("cannot send to @ topics", errors.INVALID, False))
            if not isinstance(dest, bytes | str) or not dest:
                raise ActorError(
                    Error("destination must be a PID or a name", errors.INVALID, False)
                )
            payload = from_lua(value)
        except ActorError as exc:
            return 1, None, exc.error
        return self.commands.send(text(dest), text(topic), payload)

    # -- child workflows ------------------------------------------------------------------------

    def spawn(
        self,
        mode: bytes,
        entry: Any,
        host: Any,
        builder: Any,
        args: Any,
        actor: Any = None,
        scope: Any = None,
    ) -> tuple[Any, ...]:
        try:
            request, host_name = self._spawn_request(
                self.host.current, mode, entry, host, builder, args, actor, scope
            )
        except ActorError as exc:
            return 1, None, exc.error
        return self.commands.spawn_child(request, host_name, wait=False)

    def exec(
        self, entry: Any, host: Any, builder: Any, args: Any, actor: Any = None, scope: Any = None
    ) -> tuple[Any, ...]:
        try:
            request, host_name = self._spawn_request(
                self.host.current, b"", entry, host, builder, args, actor, scope
            )
        except ActorError as exc:
            return 1, None, exc.error
        return self.commands.spawn_child(request, host_name, wait=True)

    def upgrade(self, entry: Any, args: Any) -> tuple[Any, ...]:
        """Continue as new with `entry`'s workflow type (or this one); does not return."""
        try:
            target = text(entry) if isinstance(entry, bytes | str) else None
            n = args[b"n"] or 0
            values = [from_lua(args[i]) for i in range(1, n + 1)]
            self.commands.upgrade(target, values)
        except ActorError as exc:
            return 1, None, exc.error
        self.host.park()  # never answered: the run ends with this step
        return (0,)

    # -- lifecycle ------------------------------------------------------------------------------

    def terminate(self, dest: Any) -> tuple[Any, ...]:
        if not isinstance(dest, bytes | str) or not dest:
            return _invalid("destination must be a PID or a name")
        return self.commands.terminate(text(dest))

    def cancel(self, dest: Any, reason: Any = None) -> tuple[Any, ...]:
        if not isinstance(dest, bytes | str) or not dest:
            return _invalid("destination must be a PID or a name")
        why = text(reason) if isinstance(reason, bytes | str) else ""
        return self.commands.cancel(text(dest), why)

    def monitor(self, dest: Any) -> tuple[Any, ...]:
        return _invalid(_MONITOR.format(name="process.monitor"))

    def unmonitor(self, dest: Any) -> tuple[Any, ...]:
        return _invalid(_MONITOR.format(name="process.unmonitor"))

    def link(self, dest: Any) -> tuple[Any, ...]:
        return _invalid(_LINK.format(name="process.link"))

    def unlink(self, dest: Any) -> tuple[Any, ...]:
        return _invalid(_LINK.format(name="process.unlink"))

    # -- names ------------------------------------------------------------------------------------

    def register(self, name: Any, pid: Any = None, scope: Any = None) -> tuple[Any, ...]:
        return None, Error("process.registry is not available in workflows", errors.INVALID, False)

    def lookup(self, name: Any) -> tuple[Any, ...]:
        return None, Error("process.registry is not available in workflows", errors.INVALID, False)

    def unregister(self, name: Any, scope: Any = None) -> bool:
        return False


def _functions(host: WorkflowLuaHost) -> dict[str, Any]:
    fns = WorkflowProcessFunctions(host)
    return {name: getattr(fns, name) for name in (*FUNCTION_NAMES, "upgrade")}


MODULE = LuaModule("process", _functions)  # type: ignore[arg-type]
