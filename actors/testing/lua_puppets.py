"""The Lua host's adapter for the property tests: puppets are Lua processes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs

from actors.host import SpawnRequest
from actors.node import Node
from actors.pid import PID
from actors.registry import load_app
from actors.testing.puppets import Harness
from lua_bindings.app import LuaApp
from lua_bindings.host import LuaHost

APP = Path(__file__).parent / "apps" / "puppets"


@attrs.frozen
class LuaPuppets:
    """Puppets as `process.lua` entries on a Lua host."""

    name: str = "lua"
    host: str = "puppets:processes"
    timeout: float = 5.0

    def make_node(self) -> Node:
        node = Node(shutdown_grace=0.0)
        node.add_host(LuaHost(self.host, LuaApp(load_app(APP).registry)))
        return node

    async def spawn_puppet(self, node: Node, observer: PID, label: str) -> PID:
        request = SpawnRequest(
            "puppets:puppet", (str(observer), label), parent=observer, monitor=True
        )
        return await node.spawn(self.host, request)

    async def quiesce(self, harness: Harness, live: Sequence[PID]) -> None:
        # Local hosts apply exits and deliveries before the causing call returns.
        await harness.sync(live)
