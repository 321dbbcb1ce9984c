"""Cluster-wide names (lua-api §4.9): EVENTUAL, CONSISTENT and STRONG, in JetStream key-value.

One bucket (`<prefix>_names`) holds every cluster name: key = the name (base64url, since
names may hold any character), value = `[pid, scope, node, incarnation]`. Every node
watches the bucket and keeps a copy, so `lookup` and sending by name are local reads.

- CONSISTENT and STRONG claim the key with `create`, which the server applies once: the
  first writer wins and every later one gets `AlreadyExists`. STRONG also waits until this
  node's own copy shows the claim.
- EVENTUAL registers locally at once and claims the key in the background; when another
  PID holds it already, the loser receives CANCEL `name revoked: <name>`.
- Release: when the owner exits (its node deletes the key) or its node leaves or is declared
  down (every surviving node deletes that node's keys). Deletes name the revision they
  remove, so a release never removes a newer claim of the same name.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import attrs
import msgpack
from nats.js.errors import KeyWrongLastSequenceError

from actors import errors
from actors.messages import cancel_event
from actors.names import CONSISTENT, EVENTUAL, STRONG
from actors.pid import PID, SYSTEM

if TYPE_CHECKING:
    from actors.cluster.cluster import Cluster

log = logging.getLogger(__name__)

SCOPES = (EVENTUAL, CONSISTENT, STRONG)


@attrs.frozen
class Claim:
    pid: PID
    scope: int
    node: str
    incarnation: str
    revision: int


def _key(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=") or "_"


def _name(key: str) -> str:
    return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode()


class ClusterNames:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.claims: dict[str, Claim] = {}
        self._kv: Any = None
        self._watcher: Any = None
        self._task: asyncio.Task[None] | None = None
        self._seen = 0
        self._changed = asyncio.Event()

    async def start(self, js: Any) -> None:
        bucket = f"{self.cluster.settings.prefix}_names"
        self._kv = await js.create_key_value(bucket=bucket, history=1)
        self._watcher = await self._kv.watchall()
        # The watcher first replays what the bucket holds, then a None marker.
        while (entry := await self._watcher.updates(timeout=10)) is not None:
            self._apply(entry)
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._watcher is not None:
            with contextlib.suppress(Exception):
                await self._watcher.stop()

    async def _follow(self) -> None:
        async for entry in self._watcher:
            if entry is not None:
                self._apply(entry)

    def _apply(self, entry: Any) -> None:
        name = _name(entry.key)
        self._seen = max(self._seen, entry.revision or 0)
        if entry.operation in ("DEL", "PURGE") or not entry.value:
            held = self.claims.get(name)
            if held is not None and held.revision <= (entry.revision or 0):
                del self.claims[name]
        else:
            pid, scope, node, incarnation = msgpack.unpackb(entry.value)
            self.claims[name] = Claim(PID.parse(pid), scope, node, incarnation, entry.revision)
        self._changed.set()

    # -- the registry operations --------------------------------------------------------------

    def lookup(self, name: str) -> PID | None:
        claim = self.claims.get(name)
        return claim.pid if claim is not None else None

    async def register(self, name: str, pid: PID, scope: int) -> None:
        held = self.claims.get(name)
        if held is not None:
            if held.pid == pid:
                return
            raise _taken(name, held.pid)
        node = self.cluster.node
        value = msgpack.packb([str(pid), scope, pid.node or node.name, node.incarnation])
        if scope == EVENTUAL:
            self.claims[name] = Claim(pid, scope, node.name, node.incarnation, 0)
            asyncio.get_running_loop().create_task(self._claim_eventually(name, pid, value))
            return
        try:
            revision = await self._kv.create(_key(name), value)
        except KeyWrongLastSequenceError:
            current = await self._current(name)
            if current is not None and current.pid == pid:
                return
            raise _taken(name, current.pid if current else None) from None
        self.claims[name] = Claim(pid, scope, node.name, node.incarnation, revision)
        if scope == STRONG:
            await self._until_seen(revision)

    async def _claim_eventually(self, name: str, pid: PID, value: bytes) -> None:
        try:
            revision = await self._kv.create(_key(name), value)
        except KeyWrongLastSequenceError:
            current = await self._current(name)
            if current is not None and current.pid != pid:
                self.claims[name] = current
                self.cluster.node.deliver_event(pid, cancel_event(SYSTEM, f"name revoked: {name}"))
            return
        except Exception as exc:
            log.warning("cannot claim name %s: %s", name, exc)
            return
        held = self.claims.get(name)
        if held is not None and held.pid == pid:
            self.claims[name] = attrs.evolve(held, revision=revision)

    async def _current(self, name: str) -> Claim | None:
        try:
            entry = await self._kv.get(_key(name))
        except Exception:
            return None
        self._apply(entry)
        return self.claims.get(name)

    async def _until_seen(self, revision: int) -> None:
        while self._seen < revision:
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), self.cluster.settings.request_timeout)

    def unregister(self, name: str, scope: int | None) -> bool | None:
        """True / False as lua-api §4.9 says; None when the name is not a cluster name."""
        held = self.claims.get(name)
        if held is None:
            return None
        if scope is not None and held.scope != scope:
            return False
        node = self.cluster.node
        if held.scope in (CONSISTENT, STRONG) and held.pid.node not in ("", node.name):
            return False  # owned by a process of another node
        self._drop(name, held)
        return True

    def release(self, pid: PID) -> None:
        """`pid` exited: the names it held go."""
        for name, held in list(self.claims.items()):
            if held.pid == pid:
                self._drop(name, held)

    def node_down(self, node_name: str, incarnation: str) -> None:
        for name, held in list(self.claims.items()):
            if held.node == node_name and held.incarnation == incarnation:
                self._drop(name, held)

    def _drop(self, name: str, held: Claim) -> None:
        del self.claims[name]
        if held.revision:
            asyncio.get_running_loop().create_task(self._delete(name, held.revision))

    async def _delete(self, name: str, revision: int) -> None:
        with contextlib.suppress(Exception):  # another node released it first
            await self._kv.delete(_key(name), last=revision)


def _taken(name: str, holder: PID | None) -> errors.ActorError:
    return errors.error(
        errors.ALREADY_EXISTS, f"name already registered: {name}", holder=str(holder)
    )
