"""Two nodes in one test process, joined through a real nats-server (issue 11, item 2).

Each node runs a Python host; the tests act as its processes through probes (see
tests/test_process_layer.py) and check that send, monitor, link, terminate and cancel on a
PID of the other node behave as on a local one.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from actors import errors
from actors.cluster import ClusterSettings, NatsServer
from actors.host import SpawnRequest
from actors.messages import CANCEL, EXIT, LINK_DOWN
from actors.names import CONSISTENT, EVENTUAL, STRONG
from actors.node import Node
from actors.pid import PID
from actors.python_host import ProcessContext, PythonHost
from tests.test_process_layer import HOST, next_event, probe, raises, receive, wait_exit

pytestmark = pytest.mark.anyio


def settings(server: NatsServer, name: str, prefix: str, **timing: Any) -> ClusterSettings:
    return ClusterSettings(node=name, url=server.url, prefix=prefix, **timing)


@contextlib.asynccontextmanager
async def cluster_node(
    server: NatsServer, name: str, prefix: str, **timing: Any
) -> AsyncIterator[PythonHost]:
    async with Node(cluster=settings(server, name, prefix, **timing), shutdown_grace=0.05) as node:
        host = node.add_host(PythonHost(HOST))
        assert isinstance(host, PythonHost)
        yield host


@contextlib.asynccontextmanager
async def two_nodes(
    server: NatsServer, **timing: Any
) -> AsyncIterator[tuple[PythonHost, PythonHost]]:
    prefix = f"t{uuid.uuid4().hex[:8]}"  # every test its own cluster on the shared server
    async with (
        cluster_node(server, "a", prefix, **timing) as a,
        cluster_node(server, "b", prefix, **timing) as b,
    ):
        yield a, b


async def settle(sender: ProcessContext, receiver: ProcessContext) -> None:
    """Wait until everything `sender`'s node sent to `receiver`'s node before was applied:
    one stream carries it all, in order."""
    await sender.send(receiver.pid, "settle")
    assert (await receive(receiver.listen("settle"))) is None


async def test_pids_name_their_node_and_messages_cross_in_order(nats_server: NatsServer) -> None:
    async with two_nodes(nats_server) as (a, b):
        sender, receiver = await probe(a), await probe(b)
        assert str(receiver.pid).startswith("{b@test:py|0x00001.")
        value = {"items": [1, 2, 3], "nested": {"ok": True}}
        await sender.send(str(receiver.pid), "first", value)
        value["items"].append(4)  # isolation: the receiver got a copy
        for n in range(500):
            await sender.send(receiver.pid, "n", n)
        first = await receive(receiver.inbox())
        assert (first.topic, first.payload, first.sender) == (
            "first",
            {"items": [1, 2, 3], "nested": {"ok": True}},
            sender.pid,
        )
        assert [(await receive(receiver.inbox())).payload for _ in range(500)] == list(range(500))


async def test_bad_destinations_and_values_fail_at_the_sender(nats_server: NatsServer) -> None:
    async with two_nodes(nats_server) as (a, b):
        sender, receiver = await probe(a), await probe(b)
        err = await raises(errors.NOT_FOUND, sender.send("{nowhere@test:py|0x00001.aaaaaa}", "t"))
        assert "not found" in str(err)
        await raises(errors.INVALID, sender.send(receiver.pid, "t", object()))
        too_big = "x" * (2 * 1024 * 1024)
        err = await raises(errors.INVALID, sender.send(receiver.pid, "t", too_big))
        assert "max payload of 1048576 bytes" in str(err)
        # A stale incarnation of a live node names no process.
        stale = PID(receiver.pid.host, receiver.pid.id.split(".")[0] + ".zzzzzz", "b")
        await raises(errors.NOT_FOUND, sender.send(stale, "t"))
        await sender.send(receiver.pid, "still", "fine")
        assert (await receive(receiver.inbox())).payload == "fine"


async def test_monitor_and_unmonitor_across_nodes(nats_server: NatsServer) -> None:
    async with two_nodes(nats_server) as (a, b):
        watcher, target, other = await probe(a), await probe(b), await probe(b)
        await watcher.monitor(target.pid)
        await watcher.monitor(other.pid)
        await watcher.unmonitor(other.pid)
        await settle(watcher, target)
        await other.node.terminate(None, other.pid)
        await target.node.terminate(None, target.pid)
        event = await next_event(watcher)
        assert (event.kind, event.source, event.error.kind) == (EXIT, target.pid, errors.CANCELED)
        # A dead remote PID: EXIT with NotFound at once, as on one node.
        await watcher.monitor(other.pid)
        event = await next_event(watcher)
        assert (event.source, event.error.kind) == (other.pid, errors.NOT_FOUND)
        with anyio.move_on_after(0.3):
            extra = await next_event(watcher)
            raise AssertionError(f"unexpected event {extra}")


async def test_links_across_nodes_trap_or_cascade(nats_server: NatsServer) -> None:
    async with two_nodes(nats_server) as (a, b):
        trapper, doomed = await probe(a), await probe(a)
        trapper.trap_links = True
        left, right = await probe(b), await probe(b)
        await trapper.link(left.pid)
        await doomed.link(right.pid)
        await right.node.terminate(None, right.pid)  # doomed dies with it
        event = await wait_exit(a, doomed.pid)
        assert event.error.kind == errors.CANCELED and str(right.pid) in event.error.message
        await left.node.terminate(None, left.pid)
        event = await next_event(trapper)
        assert (event.kind, event.source) == (LINK_DOWN, left.pid)
        # Linking a dead remote process fails, and unlink stops propagation.
        await raises(errors.NOT_FOUND, trapper.link(left.pid))
        survivor = await probe(b)
        await trapper.link(survivor.pid)
        await trapper.unlink(survivor.pid)
        await settle(trapper, survivor)
        await survivor.node.terminate(None, survivor.pid)
        with anyio.move_on_after(0.3):
            extra = await next_event(trapper)
            raise AssertionError(f"unexpected event {extra}")


async def test_terminate_and_cancel_a_remote_process(nats_server: NatsServer) -> None:
    async with two_nodes(nats_server) as (a, b):
        boss, worker, victim = await probe(a), await probe(b), await probe(b)
        await boss.cancel(worker.pid, "time to go")
        event = await next_event(worker)
        assert (event.kind, event.source, event.reason) == (CANCEL, boss.pid, "time to go")
        await boss.terminate(victim.pid)
        assert not b.is_alive(victim.pid)
        await raises(errors.NOT_FOUND, boss.terminate(victim.pid))
        await raises(errors.NOT_FOUND, boss.cancel(victim.pid))


async def test_a_remote_process_exiting_links_and_monitors_on_both_sides(
    nats_server: NatsServer,
) -> None:
    """The exit of a process on a links its peers on b, and the reverse."""
    async with two_nodes(nats_server) as (a, b):
        watcher_b = await probe(b)
        done = anyio.Event()

        async def short(ctx: ProcessContext) -> str:
            await ctx.link(watcher_b.pid)
            await done.wait()
            return "bye"

        watcher_b.trap_links = True
        pid = await a.spawn(SpawnRequest(short))
        await watcher_b.monitor(pid)
        probe_a = await probe(a)
        await settle(watcher_b, probe_a)
        done.set()
        event = await next_event(watcher_b)
        assert (event.kind, event.source, event.value) == (EXIT, pid, "bye")
        with anyio.move_on_after(0.3):  # a normal exit releases the link: no LINK_DOWN
            extra = await next_event(watcher_b)
            raise AssertionError(f"unexpected event {extra}")


async def silence(host: PythonHost) -> None:
    """Node `host` stops answering as if SIGKILLed: no heartbeat, no goodbye."""
    cluster = host.node.cluster
    assert cluster is not None
    for task in cluster._tasks:
        task.cancel()
    cluster._stopping = True
    await cluster._nc.close()


@pytest.mark.parametrize("how", ["silent", "leave"])
async def test_node_down_is_exit_and_link_down_naming_the_node(
    nats_server: NatsServer, how: str
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    timing = {"heartbeat_interval": 0.2, "detection_time": 1.0}
    async with cluster_node(nats_server, "a", prefix, **timing) as a:
        watcher, trapper, doomed = await probe(a), await probe(a), await probe(a)
        trapper.trap_links = True
        async with cluster_node(nats_server, "b", prefix, **timing) as b:
            far = await probe(b)
            await watcher.monitor(far.pid)
            await trapper.link(far.pid)
            await doomed.link(far.pid)
            await settle(watcher, far)
            started = anyio.current_time()
            if how == "silent":
                await silence(b)
            else:
                await b.node.cluster.stop()
            exit_ = await next_event(watcher)
            down = await next_event(trapper)
            elapsed = anyio.current_time() - started
        assert (exit_.kind, exit_.source, exit_.error.kind) == (EXIT, far.pid, errors.UNAVAILABLE)
        assert "node b" in exit_.error.message and exit_.error.details == {"node": "b"}
        assert (down.kind, down.source, down.error.kind) == (LINK_DOWN, far.pid, errors.UNAVAILABLE)
        assert not a.is_alive(doomed.pid)
        assert elapsed < (2.0 if how == "silent" else 0.5), elapsed
        # Its PIDs are gone with it.
        await raises(errors.NOT_FOUND, watcher.send(far.pid, "t"))


async def test_a_restarted_node_is_a_new_incarnation(nats_server: NatsServer) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    async with cluster_node(nats_server, "a", prefix) as a:
        sender = await probe(a)
        async with cluster_node(nats_server, "b", prefix) as b:
            old = await probe(b)
        async with cluster_node(nats_server, "b", prefix) as b:
            new = await probe(b)
            assert new.pid.id.split(".")[0] == old.pid.id.split(".")[0] and new.pid != old.pid
            await raises(errors.NOT_FOUND, sender.send(old.pid, "secret"))
            await sender.monitor(old.pid)
            assert (await next_event(sender)).error.kind == errors.NOT_FOUND
            await sender.send(new.pid, "hello")
            assert (await receive(new.inbox())).payload is None
            assert len(new.inbox()) == 0


async def test_a_second_node_with_a_name_in_use_is_refused(nats_server: NatsServer) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    async with cluster_node(nats_server, "a", prefix):
        with pytest.raises(errors.ActorError) as caught:
            async with cluster_node(nats_server, "a", prefix):
                pass
    assert caught.value.kind == errors.ALREADY_EXISTS
    assert "node name a is already in use" in str(caught.value)


async def test_nats_unreachable_at_start_is_a_clear_error() -> None:
    from actors.cluster.server import free_port

    url = f"nats://127.0.0.1:{free_port()}"
    with pytest.raises(errors.ActorError) as caught:
        async with Node(cluster=ClusterSettings(node="a", url=url)):
            pass
    assert caught.value.kind == errors.UNAVAILABLE
    assert f"cannot reach NATS at {url}" in str(caught.value)


async def test_spawn_on_another_node(nats_server: NatsServer) -> None:
    """`b@host` spawns there; the parent's monitor and link are in place before it runs."""
    async with two_nodes(nats_server) as (a, _):
        parent = await probe(a)
        parent.trap_links = True
        # Python behaviours cannot cross nodes; a Lua host would run an entry ID instead.
        await raises(errors.INVALID, parent.spawn(lambda ctx: None, host="b@test:py"))
        await raises(errors.NOT_FOUND, parent.spawn("x:y", host="nowhere@test:py"))


async def until(predicate: Any, what: str) -> None:
    with anyio.fail_after(5, shield=False):
        while not predicate():
            await anyio.sleep(0.01)
    assert predicate(), what


async def test_cluster_names_first_writer_wins_and_are_released(nats_server: NatsServer) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    timing = {"heartbeat_interval": 0.2, "detection_time": 1.0}
    async with cluster_node(nats_server, "a", prefix, **timing) as a:
        service, client = await probe(a), await probe(a)
        await a.node.claim("svc", service.pid, CONSISTENT)
        await a.node.claim("svc", service.pid, CONSISTENT)  # the same PID again: fine
        local = await probe(a)
        local.register("only-here")  # LOCAL stays on its node
        async with cluster_node(nats_server, "b", prefix, **timing) as b:
            rival = await probe(b)
            # Joining later, b's copy of the bucket already holds the name.
            assert b.node.lookup("svc") == service.pid
            with pytest.raises(errors.ActorError) as caught:
                await b.node.claim("svc", rival.pid, CONSISTENT)
            assert caught.value.kind == errors.ALREADY_EXISTS
            await raises(errors.NOT_FOUND, rival.send("only-here", "t"))
            await rival.send("svc", "by-name", 1)
            assert (await receive(service.inbox())).payload == 1
            # A name of b's is released when b goes down.
            await b.node.claim("b-svc", rival.pid, STRONG)
            await until(lambda: "b-svc" in a.node.cluster.names.claims, "a sees b-svc")
            assert a.node.lookup("b-svc") == rival.pid
            await silence(b)
            await until(lambda: "b-svc" not in a.node.cluster.names.claims, "released")
        await raises(errors.NOT_FOUND, client.send("b-svc", "t"))
        # Released when the owner exits; then anyone may take it.
        await a.node.terminate(None, service.pid)
        await raises(errors.NOT_FOUND, client.send("svc", "t"))
        await a.node.claim("svc", client.pid, CONSISTENT)
        assert a.node.lookup("svc") == client.pid
        assert a.node.unregister("svc", EVENTUAL) is False
        assert a.node.unregister("svc", CONSISTENT) is True
        assert a.node.unregister("svc") is False
