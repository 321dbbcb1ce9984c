"""This project's own process host, and the adapters that let `actors.testing` check it.

`AuditedHost` is a Python host that keeps an audit trail of every link that went down.
`TrapIgnoringHost` is the same host with a deliberate bug: it kills a linked process even
when that process traps links. The state machine must find that bug and shrink it.
"""

from __future__ import annotations

import attrs

from actors.errors import Error
from actors.local_host import cascade_error
from actors.node import Node
from actors.pid import PID
from actors.python_host import PythonHost
from actors.testing import PythonPuppets


class AuditedHost(PythonHost):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.audit: list[tuple[str, str, str]] = []

    def link_down(self, target: PID, source: PID, error: Error) -> None:
        self.audit.append((str(target), str(source), error.kind))
        super().link_down(target, source, error)


class TrapIgnoringHost(AuditedHost):
    def link_down(self, target: PID, source: PID, error: Error) -> None:
        process = self.processes.get(target)
        if process is None or source not in process.links:
            return
        process.discard("links", source)
        self.kill(process, cascade_error(source, error))  # the bug: trap_links ignored


@attrs.frozen
class AuditedPuppets(PythonPuppets):
    """The adapter: the stock Python puppets (they speak the puppet protocol), run on our
    host instead of the stock one."""

    name: str = "audited"
    host: str = "shop:audited"
    host_class: type[AuditedHost] = AuditedHost

    def make_node(self) -> Node:
        node = Node(shutdown_grace=0.0)
        node.add_host(self.host_class(self.host))
        return node


def trap_ignoring_puppets() -> AuditedPuppets:
    return AuditedPuppets(name="trap-ignoring", host_class=TrapIgnoringHost)
