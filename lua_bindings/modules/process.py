"""The `process` global (lua-api §4): the Python half. `process.lua` wraps it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from actors.messages import CANCEL, Event, Message
from actors.names import LOCAL
from actors.pid import PID
from lua_bindings.channels import Channel
from lua_bindings.convert import from_lua, text
from lua_bindings.gotime import GoTime, Local, Location
from lua_bindings.modules import LuaModule
from lua_bindings.modules.security import derive_context

if TYPE_CHECKING:
    from lua_bindings.host import LuaHost

_OPTIONS = ("trap_links", "upgradable")


def event_table(event: Event, zone: Location = Local) -> dict[str, Any]:
    """An event as the plain Lua table of lua-api §4.4, its `at` shown in `zone`."""
    table: dict[str, Any] = {
        "kind": event.kind,
        "from": str(event.source),
        "at": GoTime(event.at, zone),
    }
    if event.kind == CANCEL:
        table["reason"] = event.reason
    else:
        table["result"] = {"value": event.value, "error": event.error}
    return table


class ProcessFunctions:
    event_zone: Location = Local
    """The zone of events' `at` (workflows use UTC: the same on every replay)."""

    def __init__(self, host: LuaHost) -> None:
        self.host = host
        self.node = host.node

    # -- identity ---------------------------------------------------------------------------

    def pid(self) -> bytes:
        return str(self.host.current.pid).encode()

    def frame_id(self) -> bytes:
        process = self.host.current
        entry = process.entry.id if process.entry else "?"
        return f"{entry}#{process.pid.id}".encode()

    # -- addressing ----------------------------------------------------------------------------

    def _target(self, dest: Any, sending: bool = False) -> tuple[PID, bool]:
        """Resolve a destination and say whether its host answers synchronously."""
        if not isinstance(dest, bytes | str):
            raise ActorError(Error("destination must be a PID or a name", errors.INVALID, False))
        pid = self.node.resolve(text(dest))
        host = self.node.route(pid)
        return pid, host is None or (host.immediate_send if sending else host.in_memory)

    def _op(self, dest: Any, make_work: Any) -> tuple[Any, ...]:
        try:
            target, sync = self._target(dest)
        except ActorError as exc:
            return 1, None, exc.error
        return self.host.call(make_work(target), sync)

    # -- messages -----------------------------------------------------------------------------

    def send(self, dest: Any, topic: Any, value: Any) -> tuple[Any, ...]:
        process = self.host.current
        try:
            if not isinstance(topic, bytes | str):
                raise ActorError(Error("topic cannot be empty", errors.INVALID, False))
            payload = from_lua(value)
            target, sync = self._target(dest, sending=True)
        except ActorError as exc:
            return 1, None, exc.error
        work = self.node.send(process.pid, target, text(topic), payload, private=True)
        return self.host.call(work, sync)

    # Mailbox channels: core.lua wraps each once and caches the wrapper, so these are
    # called once per process and topic. Items are converted into the receiver's state.

    def inbox(self) -> Channel:
        process = self.host.current
        return Channel(source=process.mailbox.inbox(), convert=_message_converter(process))

    def events(self) -> Channel:
        process, zone = self.host.current, self.event_zone
        to_lua = self.host.state.to_lua
        return Channel(
            source=process.mailbox.events(),
            convert=lambda event: to_lua(event_table(event, zone)),
        )

    def listen(self, topic: Any, message: bool = False) -> Channel:
        process = self.host.current
        queue = process.mailbox.listen(text(topic), raw=not message)
        if message:
            return Channel(source=queue, convert=_message_converter(process))
        to_lua = self.host.state.to_lua
        return Channel(source=queue, convert=lambda msg: to_lua(msg.payload))

    def unlisten(self, channel: Any) -> None:
        if isinstance(channel, Channel) and channel.source is not None:
            self.host.current.mailbox.unlisten(channel.source)

    # -- spawning -------------------------------------------------------------------------------

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
        process = self.host.current
        try:
            request, host_name = self._spawn_request(
                process, mode, entry, host, builder, args, actor, scope
            )
            target_host = self.node.host(host_name)
        except ActorError as exc:
            return 1, None, exc.error
        work = self.node.spawn(host_name, request)
        return self.host.call(work, target_host.in_memory, lambda pid: (str(pid).encode(),))

    def exec(
        self, entry: Any, host: Any, builder: Any, args: Any, actor: Any = None, scope: Any = None
    ) -> tuple[Any, ...]:
        process = self.host.current
        try:
            request, host_name = self._spawn_request(
                process, b"", entry, host, builder, args, actor, scope
            )
            target_host = self.node.host(host_name)
        except ActorError as exc:
            return 1, None, exc.error

        async def run() -> Any:
            pid = await self.node.spawn(host_name, request)
            return await target_host.wait_exit(pid)

        lua = self.host
        return lua.call(run(), False, lambda event: _exec_outcome(event))

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
            raise ActorError(
                Error("spawn requires at least id and host arguments", errors.INVALID, False)
            )
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

    def terminate(self, dest: Any) -> tuple[Any, ...]:
        me = self.host.current.pid
        return self._op(dest, lambda target: self.node.terminate(me, target))

    def cancel(self, dest: Any, reason: Any = None) -> tuple[Any, ...]:
        me = self.host.current.pid
        why = text(reason) if isinstance(reason, bytes | str) else ""
        return self._op(dest, lambda target: self.node.cancel(me, target, why))

    def monitor(self, dest: Any) -> tuple[Any, ...]:
        me = self.host.current.pid
        return self._op(dest, lambda target: self.node.monitor(me, target))

    def unmonitor(self, dest: Any) -> tuple[Any, ...]:
        me = self.host.current.pid
        return self._op(dest, lambda target: self.node.unmonitor(me, target))

    def link(self, dest: Any) -> tuple[Any, ...]:
        me = self.host.current.pid
        return self._op(dest, lambda target: self.node.link(me, target))

    def unlink(self, dest: Any) -> tuple[Any, ...]:
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

    def set_options(self, options: Any) -> tuple[Any, ...]:
        process = self.host.current
        try:
            values = from_lua(options)
            if not isinstance(values, dict):
                if values == []:
                    return (True,)
                raise ActorError(Error("options parameter must be a table", errors.INVALID, False))
            for name, value in values.items():
                if name not in _OPTIONS:
                    raise ActorError(
                        Error(f"option {name} is not supported", errors.INVALID, False)
                    )
                if not isinstance(value, bool):
                    raise ActorError(Error(f"{name} must be a boolean", errors.INVALID, False))
            for name, value in values.items():
                if name == "trap_links":
                    process.trap_links = value
                else:
                    process.options[name] = value
        except ActorError as exc:
            return False, exc.error
        return (True,)

    # -- names ------------------------------------------------------------------------------------

    def register(self, name: Any, pid: Any = None, scope: Any = None) -> tuple[Any, ...]:
        process = self.host.current
        try:
            if not isinstance(name, bytes | str):
                raise ActorError(Error("name cannot be empty", errors.INVALID, False))
            owner = self.node.resolve(text(pid)) if pid is not None else process.pid
            self.node.register(text(name), owner, scope if isinstance(scope, int) else LOCAL)
        except ActorError as exc:
            return None, exc.error
        return (True,)

    def lookup(self, name: Any) -> tuple[Any, ...]:
        try:
            return (str(self.node.names.lookup(text(name))).encode(),)
        except ActorError as exc:
            return None, exc.error

    def unregister(self, name: Any, scope: Any = None) -> bool:
        if not isinstance(name, bytes | str):
            return False
        return self.node.names.unregister(text(name), scope if isinstance(scope, int) else None)


def _message_converter(process: Any) -> Any:
    state = process.host.state
    make, to_lua = state.make_message, state.to_lua

    def convert(message: Message) -> Any:
        sender = message.sender
        return make(
            message.topic.encode(),
            str(sender).encode() if sender is not None else None,
            to_lua(message.payload),
        )

    return convert


def _exec_outcome(event: Event) -> tuple[Any, ...]:
    if event.error is not None:
        return None, event.error
    return (event.value,)


FUNCTION_NAMES = (
    "pid",
    "frame_id",
    "send",
    "inbox",
    "events",
    "listen",
    "unlisten",
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


def _functions(host: LuaHost) -> dict[str, Any]:
    fns = ProcessFunctions(host)
    return {name: getattr(fns, name) for name in FUNCTION_NAMES}


MODULE = LuaModule("process", _functions)
