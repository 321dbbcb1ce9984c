"""The `process` global (lua-api §4): the Python half. `process.lua` wraps it."""

from __future__ import annotations

from typing import Any

from actors.errors import InvalidError
from actors.host import SpawnRequest
from actors.mailbox import check_topic
from actors.messages import Event
from actors.names import LOCAL
from actors.pid import PID
from lua_bindings.contract import ModuleHost, Reply, awaitable, false_on_error, nil_on_error
from lua_bindings.convert import from_lua, text
from lua_bindings.modules import LuaModule
from lua_bindings.modules.security import derive_context

_OPTIONS = ("trap_links", "upgradable")


class ProcessFunctions:
    def __init__(self, host: ModuleHost) -> None:
        self.host = host
        self.node = host.node

    # -- identity ---------------------------------------------------------------------------

    def frame_id(self) -> bytes:
        process = self.host.current
        entry = process.entry.id if process.entry else "?"
        return f"{entry}#{process.pid.id}".encode()

    # -- addressing ----------------------------------------------------------------------------

    def _resolve(self, dest: Any) -> PID:
        if not isinstance(dest, bytes | str):
            raise InvalidError("destination must be a PID or a name")
        return self.node.resolve(text(dest))

    def _target(self, dest: Any) -> tuple[PID, bool]:
        """Resolve a destination and say whether its host answers synchronously."""
        pid = self._resolve(dest)
        return pid, self.node.answers_at_once(pid)

    @awaitable
    def _op(self, dest: Any, make_work: Any) -> Reply:
        target, sync = self._target(dest)
        return self.host.call(make_work(target), sync)

    # -- messages -----------------------------------------------------------------------------

    @awaitable
    def send(self, dest: Any, topic: Any, value: Any) -> Reply:
        process = self.host.current
        name = check_topic(topic)
        payload = from_lua(value)
        target = self._resolve(dest)
        work, sync = self.node.send_work(process.pid, target, name, payload)
        return self.host.call(work, sync)

    # -- spawning -------------------------------------------------------------------------------

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
        process = self.host.current
        request, host_name = self._spawn_request(
            process, mode, entry, host, builder, args, actor, scope
        )
        work = self.node.spawn(host_name, request)
        sync = self.node.answers_at_once(host_name)
        return self.host.call(work, sync, lambda pid: (str(pid).encode(),))

    @awaitable
    def exec(
        self, entry: Any, host: Any, builder: Any, args: Any, actor: Any = None, scope: Any = None
    ) -> Reply:
        process = self.host.current
        request, host_name = self._spawn_request(
            process, b"", entry, host, builder, args, actor, scope
        )
        self.node.host(host_name)  # an unknown host fails now, not once parked

        async def run() -> Any:
            pid = await self.node.spawn(host_name, request)
            return await self.node.wait_exit(pid)

        return self.host.call(run(), False, _exec_outcome)

    def _spawn_request(
        self,
        process: Any,
        mode: bytes,
        entry: Any,
        host: Any,
        builder: Any,
        args: Any,
        actor: Any = None,
        scope: Any = None,
    ) -> tuple[SpawnRequest, str]:
        if not isinstance(entry, bytes | str) or not isinstance(host, bytes | str):
            raise InvalidError("spawn requires at least id and host arguments")
        n = args[b"n"] or 0
        values = tuple(from_lua(args[i]) for i in range(1, n + 1))
        spec = from_lua(builder) if builder is not None else {}
        messages = tuple((m["topic"], m.get("value")) for m in spec.get("messages", ()))
        request = SpawnRequest(
            target=text(entry),
            args=values,
            parent=process.pid,
            monitor=b"monitored" in mode,
            link=b"linked" in mode,
            name=spec.get("name"),
            messages=messages,
            # the child's context: ours, the builder's values, and the security identity
            context=derive_context(process.context, spec.get("context"), actor, scope),
            options=spec.get("options") or {},
        )
        return request, text(host)

    # -- lifecycle operations ---------------------------------------------------------------------

    def terminate(self, dest: Any) -> Reply:
        me = self.host.current.pid
        return self._op(dest, lambda target: self.node.terminate(me, target))

    def cancel(self, dest: Any, reason: Any = None) -> Reply:
        me = self.host.current.pid
        why = text(reason) if isinstance(reason, bytes | str) else ""
        return self._op(dest, lambda target: self.node.cancel(me, target, why))

    def monitor(self, dest: Any) -> Reply:
        me = self.host.current.pid
        return self._op(dest, lambda target: self.node.monitor(me, target))

    def unmonitor(self, dest: Any) -> Reply:
        me = self.host.current.pid
        return self._op(dest, lambda target: self.node.unmonitor(me, target))

    def link(self, dest: Any) -> Reply:
        me = self.host.current.pid
        return self._op(dest, lambda target: self.node.link(me, target))

    def unlink(self, dest: Any) -> Reply:
        me = self.host.current.pid
        return self._op(dest, lambda target: self.node.unlink(me, target))

    # -- options ----------------------------------------------------------------------------------

    def get_options(self) -> Any:
        process = self.host.current
        return self.host.lua(
            {
                "trap_links": process.trap_links,
                "upgradable": bool(process.options.get("upgradable")),
            }
        )

    @false_on_error
    def set_options(self, options: Any) -> bool:
        process = self.host.current
        values = from_lua(options)
        if not isinstance(values, dict):
            if values == []:
                return True
            raise InvalidError("options parameter must be a table")
        for name, value in values.items():
            if name not in _OPTIONS:
                raise InvalidError(f"option {name} is not supported")
            if not isinstance(value, bool):
                raise InvalidError(f"{name} must be a boolean")
        for name, value in values.items():
            if name == "trap_links":
                process.trap_links = value
            else:
                process.options[name] = value
        return True

    # -- names ------------------------------------------------------------------------------------

    @awaitable
    def register(self, name: Any, pid: Any = None, scope: Any = None) -> Reply:
        process = self.host.current
        if not isinstance(name, bytes | str):
            raise InvalidError("name cannot be empty")
        owner = self.node.resolve(text(pid)) if pid is not None else process.pid
        scope = scope if isinstance(scope, int) else LOCAL
        # A cluster-wide name asks the cluster (it may suspend); a local one never does.
        local = scope == LOCAL or self.node.cluster is None
        return self.host.call(self.node.claim(text(name), owner, scope), local)

    @nil_on_error
    def lookup(self, name: Any) -> bytes:
        return str(self.node.lookup(text(name))).encode()

    def unregister(self, name: Any, scope: Any = None) -> bool:
        if not isinstance(name, bytes | str):
            return False
        return self.node.unregister(text(name), scope if isinstance(scope, int) else None)


def _exec_outcome(event: Event) -> tuple[Any, ...]:
    if event.error is not None:
        return None, event.error
    return (event.value,)


FUNCTION_NAMES = (
    "frame_id",
    "send",
    "spawn",
    "exec",
    "terminate",
    "cancel",
    "monitor",
    "unmonitor",
    "link",
    "unlink",
    "get_options",
    "set_options",
    "register",
    "lookup",
    "unregister",
)
"""What process.lua expects from Python; hosts with more (workflows: `upgrade`) add theirs."""


def _functions(host: ModuleHost) -> dict[str, Any]:
    fns = ProcessFunctions(host)
    return {name: getattr(fns, name) for name in FUNCTION_NAMES}


MODULE = LuaModule("process", _functions)
