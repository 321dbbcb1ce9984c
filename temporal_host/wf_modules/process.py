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

from actors.errors import InvalidError
from actors.mailbox import check_topic
from lua_bindings.contract import Reply, awaitable, nil_on_error, reply
from lua_bindings.convert import from_lua, text
from lua_bindings.modules import LuaModule
from lua_bindings.modules.process import FUNCTION_NAMES, ProcessFunctions
from temporal_host.wf_modules.host import WorkflowModuleHost

if TYPE_CHECKING:
    from temporal_host.wf_modules.commands import Commands

_LINK = "{name} not supported in workflow context: Temporal doesn't support bidirectional linking"
_MONITOR = "{name} not supported in workflow context: child workflows are automatically monitored"


_REGISTRY = "process.registry is not available in workflows"


def _destination(dest: Any) -> str:
    if not isinstance(dest, bytes | str) or not dest:
        raise InvalidError("destination must be a PID or a name")
    return text(dest)


class WorkflowProcessFunctions(ProcessFunctions):
    """The stock functions minus the node: every outside effect goes through `commands`."""

    def __init__(self, host: WorkflowModuleHost) -> None:  # no super(): there is no node here
        self.host = host
        self.workflow_host = host

    @property
    def commands(self) -> Commands:
        """Read at each call: the host serves one run after another (states.py)."""
        return self.workflow_host.run.commands

    # -- messages -------------------------------------------------------------------------------

    @awaitable
    def send(self, dest: Any, topic: Any, value: Any) -> Reply:
        name = check_topic(topic)
        target = _destination(dest)
        payload = from_lua(value)
        return self.commands.send(target, name, payload)

    # -- child workflows ------------------------------------------------------------------------

    @awaitable
    def spawn(
        self,
        mode: bytes,
        entry: Any,
        host: Any,
        builder: Any,
        args: Any,
        actor: Any = None,
        scope: Any = None,
    ) -> Reply:
        request, host_name = self._spawn_request(
            self.host.current, mode, entry, host, builder, args, actor, scope
        )
        return self.commands.spawn_child(request, host_name, wait=False)

    @awaitable
    def exec(
        self, entry: Any, host: Any, builder: Any, args: Any, actor: Any = None, scope: Any = None
    ) -> Reply:
        request, host_name = self._spawn_request(
            self.host.current, b"", entry, host, builder, args, actor, scope
        )
        return self.commands.spawn_child(request, host_name, wait=True)

    @awaitable
    def upgrade(self, entry: Any, args: Any) -> Reply:
        """Continue as new with `entry`'s workflow type (or this one); does not return."""
        target = text(entry) if isinstance(entry, bytes | str) else None
        n = args[b"n"] or 0
        values = [from_lua(args[i]) for i in range(1, n + 1)]
        self.commands.upgrade(target, values)
        self.host.park()  # never answered: the run ends with this step
        return reply.parked()

    # -- lifecycle ------------------------------------------------------------------------------

    @awaitable
    def terminate(self, dest: Any) -> Reply:
        return self.commands.terminate(_destination(dest))

    @awaitable
    def cancel(self, dest: Any, reason: Any = None) -> Reply:
        why = text(reason) if isinstance(reason, bytes | str) else ""
        return self.commands.cancel(_destination(dest), why)

    def monitor(self, dest: Any) -> Reply:
        return reply.failed(InvalidError(_MONITOR.format(name="process.monitor")))

    def unmonitor(self, dest: Any) -> Reply:
        return reply.failed(InvalidError(_MONITOR.format(name="process.unmonitor")))

    def link(self, dest: Any) -> Reply:
        return reply.failed(InvalidError(_LINK.format(name="process.link")))

    def unlink(self, dest: Any) -> Reply:
        return reply.failed(InvalidError(_LINK.format(name="process.unlink")))

    # -- names ------------------------------------------------------------------------------------

    def register(self, name: Any, pid: Any = None, scope: Any = None) -> Reply:
        return reply.failed(InvalidError(_REGISTRY))

    @nil_on_error
    def lookup(self, name: Any) -> bytes:
        raise InvalidError(_REGISTRY)

    def unregister(self, name: Any, scope: Any = None) -> bool:
        return False


def _functions(host: WorkflowModuleHost) -> dict[str, Any]:
    fns = WorkflowProcessFunctions(host)
    return {name: getattr(fns, name) for name in (*FUNCTION_NAMES, "upgrade")}


MODULE = LuaModule("process", _functions)
