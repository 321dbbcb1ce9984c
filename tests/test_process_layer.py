"""Unit tests of the process layer on the Python host (lua-api §1.2, §1.3, §4).

Most tests drive a *probe*: a live process whose behaviour only parks, so the test can act
as that process through its `ProcessContext` (send, link, monitor, read its mailbox). In
memory every operation is applied synchronously, so "nothing was delivered" is checked by
looking at a queue right after the operation that would have delivered it; waits for things
that do arrive are bounded with `anyio.fail_after`.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from actors import errors
from actors.errors import ActorError, Error
from actors.host import SpawnRequest
from actors.mailbox import Mailbox, check_topic
from actors.messages import CANCEL, EXIT, LINK_DOWN, Event, Message
from actors.names import EVENTUAL, LOCAL
from actors.node import Node
from actors.pid import INCARNATION_ALPHABET, PID, SYSTEM, local_id
from actors.python_host import Channel, ProcessContext, PythonHost
from actors.values import copy_value

pytestmark = pytest.mark.anyio

HOST = "test:py"
WAIT = 5.0
"""Upper bound for anything that should happen at once; only reached when a test fails."""


# -- helpers ----------------------------------------------------------------------------------


@asynccontextmanager
async def running(*, node_name: str = "", grace: float = 0.05) -> AsyncIterator[PythonHost]:
    async with Node(node_name, shutdown_grace=grace) as node:
        host = node.add_host(PythonHost(HOST))
        assert isinstance(host, PythonHost)
        yield host


async def probe(host: PythonHost, **request: Any) -> ProcessContext:
    """Spawn a process that parks forever and hand its context to the test."""
    box: list[ProcessContext] = []
    ready = anyio.Event()

    async def parked(ctx: ProcessContext) -> None:
        box.append(ctx)
        ready.set()
        await anyio.sleep_forever()

    await host.spawn(SpawnRequest(parked, **request))
    with anyio.fail_after(WAIT):
        await ready.wait()
    return box[0]


async def spawn(host: PythonHost, behaviour: Callable[..., Awaitable[Any]], *args: Any) -> PID:
    return await host.spawn(SpawnRequest(behaviour, args))


async def receive(channel: Channel) -> Any:
    with anyio.fail_after(WAIT):
        return await channel.receive()


async def next_event(ctx: ProcessContext) -> Event:
    return await receive(ctx.events())


async def wait_exit(host: PythonHost, pid: PID) -> Event:
    with anyio.fail_after(WAIT):
        return await host.wait_exit(pid)


def returning(value: Any) -> Callable[[ProcessContext], Awaitable[Any]]:
    async def behaviour(ctx: ProcessContext) -> Any:
        return value

    return behaviour


def failing(kind: str, message: str) -> Callable[[ProcessContext], Awaitable[Any]]:
    async def behaviour(ctx: ProcessContext) -> Any:
        raise errors.error(kind, message)

    return behaviour


async def until_told(ctx: ProcessContext) -> Any:
    """Wait for one message: `fail` raises the error it describes, anything else is returned."""
    message = await ctx.receive()
    if message.topic == "fail":
        raise errors.error(message.payload["kind"], message.payload["message"])
    return message.payload


async def raises(kind: str, call: Awaitable[Any]) -> ActorError:
    with pytest.raises(ActorError) as caught:
        await call
    assert caught.value.kind == kind, caught.value.error
    return caught.value


# -- PIDs ---------------------------------------------------------------------------------------


def test_pid_format_and_parse_round_trip() -> None:
    local = PID("app:processes", "0x00004")
    remote = PID("app:processes", "sse-1", "n1")
    assert str(local) == "{app:processes|0x00004}"
    assert str(remote) == "{n1@app:processes|sse-1}"
    assert PID.parse("{app:processes|0x00004}") == local
    assert PID.parse("{n1@app:processes|sse-1}") == remote
    workflow = PID.parse("{app:temporal_client@app:worker|order-123}")
    assert (workflow.node, workflow.host, workflow.id) == (
        "app:temporal_client",
        "app:worker",
        "order-123",
    )


def test_pid_parse_is_cached_and_pids_compare_by_value() -> None:
    text = "{app:processes|0x0002a}"
    assert PID.parse(text) is PID.parse(text)
    a, b = PID("h", "0x00001"), PID("h", "0x00001")
    assert a == b and hash(a) == hash(b) and {a: 1}[b] == 1
    assert PID("h", "0x00001") < PID("h", "0x00002")
    assert PID("h", "0x00001") != PID("h", "0x00001", "n1")
    assert sorted([PID("h", "0x00002"), PID("h", "0x00001")])[0].id == "0x00001"


@pytest.mark.parametrize(
    "text",
    ["", "app|0x1", "{}", "{app:processes}", "{app|}", "{@app|0x1}", "{a|b|c}", "{n@h|x|y}"],
)
def test_bad_pid_strings_are_invalid_and_named(text: str) -> None:
    with pytest.raises(ActorError) as caught:
        PID.parse(text)
    assert caught.value.kind == errors.INVALID
    assert repr(text) in str(caught.value)


def test_two_pipes_are_not_a_pid() -> None:
    assert PID.is_pid_string("{a|b|c}")
    with pytest.raises(ActorError, match=r"exactly one '\|'"):
        PID.parse("{a|b|c}")


async def test_unparseable_pid_destination_is_treated_as_a_name() -> None:
    """lua-api §1.2: a string with two `|` is not a PID but a name, which fails to resolve."""
    async with running() as host:
        ctx = await probe(host)
        err = await raises(errors.NOT_FOUND, ctx.send("{a|b|c}", "t", 1))
        assert str(err) == "could not resolve: {a|b|c}"


def test_system_pid_is_topology() -> None:
    assert str(SYSTEM) == "{|topology}"
    assert PID.parse("{|topology}") == SYSTEM
    assert SYSTEM.host == "" and SYSTEM.node == ""


@pytest.mark.parametrize(
    ("counter", "text"),
    [
        (1, "0x00001"),
        (0xFFFFF, "0xfffff"),
        (0x100000, "0x100000"),
        (0xFFFFFF, "0xffffff"),
        (0x1000000, "0x01000000"),
        (0xFFFFFFFF, "0xffffffff"),
        (0x100000000, "0x0000000100000000"),
    ],
)
def test_local_id_width_grows_5_6_8_16(counter: int, text: str) -> None:
    assert local_id(counter) == text


async def test_hosts_hand_out_counter_pids_tagged_with_the_boot() -> None:
    async with running() as host:
        boot = host.node.incarnation
        first = await spawn(host, returning(None))
        second = await spawn(host, returning(None))
        assert str(first) == f"{{test:py|0x00001.{boot}}}"
        assert str(second) == f"{{test:py|0x00002.{boot}}}"
        assert first.incarnation == boot and PID.parse(str(first)) == first
    async with running(node_name="n1") as host:
        boot = host.node.incarnation
        assert str(await spawn(host, returning(None))) == f"{{n1@test:py|0x00001.{boot}}}"


def test_every_boot_of_a_node_is_a_new_incarnation() -> None:
    boots = {Node().incarnation for _ in range(200)}
    assert len(boots) == 200
    assert all(len(boot) == 6 and set(boot) <= set(INCARNATION_ALPHABET) for boot in boots)
    assert local_id(1, "k3f9qz") == "0x00001.k3f9qz"
    assert PID("h", "0x00001.k3f9qz").incarnation == "k3f9qz"
    assert PID("h", "order.42").incarnation == ""  # not a local-host id


async def test_a_pid_of_an_earlier_boot_never_reaches_a_process_of_this_one() -> None:
    """Issue 12 item 1: counters restart at 1, so without the boot in the PID a message for
    a process that died with the old boot reached the new process with the same counter."""
    async with running() as host:
        old = await probe(host)
    async with running() as host:
        bystander = await probe(host)
        assert bystander.pid.id.split(".")[0] == old.pid.id.split(".")[0]
        assert bystander.pid != old.pid
        await raises(errors.NOT_FOUND, bystander.send(str(old.pid), "secret", "for the old one"))
        await raises(errors.NOT_FOUND, bystander.link(str(old.pid)))
        assert len(bystander.inbox()) == 0


# -- values -------------------------------------------------------------------------------------


async def test_tables_are_deep_copied_between_processes() -> None:
    async with running() as host:
        a, b = await probe(host), await probe(host)
        original = {"list": [1, {"deep": [2, 3]}], "map": {"k": "v"}}
        await a.send(b.pid, "t", original)
        original["list"][1]["deep"].append(99)
        original["map"]["k"] = "changed"
        message = await receive(b.inbox())
        assert message.payload == {"list": [1, {"deep": [2, 3]}], "map": {"k": "v"}}
        assert message.sender == a.pid


def test_scalars_keep_their_type() -> None:
    sent = [1, 1.0, -0.0, True, False, None, "s", b"bytes", 2**63, math.inf]
    received = copy_value(sent)
    assert received == sent
    assert [type(v) for v in received] == [type(v) for v in sent]
    assert received is not sent


def test_errors_survive_with_kind_retryable_and_details() -> None:
    err = Error("no stock", errors.CONFLICT, True, {"sku": "x-1", "left": 0})
    copied = copy_value({"err": err, "list": [err]})
    assert copied["err"] == err
    assert copied["list"][0].kind == errors.CONFLICT
    assert copied["list"][0].retryable is True
    assert copied["list"][0].details == {"sku": "x-1", "left": 0}


async def test_a_function_is_refused_at_the_sender() -> None:
    async with running() as host:
        a, b = await probe(host), await probe(host)
        err = await raises(errors.INVALID, a.send(b.pid, "t", {"f": lambda: 1}))
        assert str(err) == "value of type function cannot be sent to another process"
        assert len(b.inbox()) == 0


async def test_a_cycle_is_refused_at_the_sender() -> None:
    async with running() as host:
        a, b = await probe(host), await probe(host)
        cyclic: dict[str, Any] = {}
        cyclic["self"] = cyclic
        err = await raises(errors.INVALID, a.send(b.pid, "t", cyclic))
        assert "cannot be sent to another process" in str(err)
        assert "cycle" in str(err)
        assert len(b.inbox()) == 0


async def test_spawn_arguments_and_results_are_copies() -> None:
    async with running() as host:
        parent = await probe(host)
        data = {"items": [1, 2]}

        async def mutating(ctx: ProcessContext, arg: dict[str, Any]) -> dict[str, Any]:
            arg["items"].append(3)
            return arg

        child = await parent.spawn(mutating, data, monitor=True)
        event = await next_event(parent)
        assert event.source == child
        assert event.value == {"items": [1, 2, 3]}
        assert data == {"items": [1, 2]}


async def test_each_watcher_gets_its_own_copy_of_the_result() -> None:
    async with running() as host:
        w1, w2 = await probe(host), await probe(host)
        child = await spawn(host, until_told)
        await w1.monitor(child)
        await w2.monitor(child)
        await w1.send(child, "done", {"shared": [1]})
        e1, e2 = await next_event(w1), await next_event(w2)
        assert e1.value == e2.value == {"shared": [1]}
        assert e1.value is not e2.value
        assert e1.value["shared"] is not e2.value["shared"]


# -- mailbox routing ----------------------------------------------------------------------------


async def test_listen_takes_its_topic_and_the_inbox_the_rest() -> None:
    async with running() as host:
        sender, receiver = await probe(host), await probe(host)
        on_a = receiver.listen("a")
        inbox = receiver.inbox()
        for topic, value in (("a", 1), ("b", 2), ("a", 3)):
            await sender.send(receiver.pid, topic, value)
        assert [await receive(on_a), await receive(on_a)] == [1, 3]
        message = await receive(inbox)
        assert (message.topic, message.payload, message.sender) == ("b", 2, sender.pid)
        assert len(on_a) == 0 and len(inbox) == 0


async def test_listen_with_message_true_hands_out_messages() -> None:
    async with running() as host:
        sender, receiver = await probe(host), await probe(host)
        channel = receiver.listen("a", message=True)
        await sender.send(receiver.pid, "a", {"x": 1})
        message = await receive(channel)
        assert isinstance(message, Message)
        assert (message.topic, message.payload, message.sender) == ("a", {"x": 1}, sender.pid)


async def test_messages_wait_until_inbox_or_listen_opens() -> None:
    async with running() as host:
        sender, receiver = await probe(host), await probe(host)
        for topic, value in (("a", 1), ("b", 2), ("a", 3), ("c", 4)):
            await sender.send(receiver.pid, topic, value)
        on_a = receiver.listen("a")
        assert [on_a.receive_nowait(), on_a.receive_nowait()] == [1, 3]
        inbox = receiver.inbox()
        assert [(m.topic, m.payload) for m in list(inbox.queue.items)] == [("b", 2), ("c", 4)]


async def test_events_wait_until_events_is_called() -> None:
    async with running() as host:
        watcher = await probe(host)
        child = await watcher.spawn(returning("v"), monitor=True)
        await wait_exit(host, child)
        mailbox = host.processes[watcher.pid].mailbox
        assert mailbox._events is None, "the test expects events() not to be open yet"
        event = await next_event(watcher)
        assert (event.kind, event.source, event.value) == (EXIT, child, "v")


async def test_one_sender_to_one_receiver_keeps_order() -> None:
    async with running() as host:
        sender, receiver = await probe(host), await probe(host)
        on_x = receiver.listen("x")
        for i in range(500):
            await sender.send(receiver.pid, "x" if i % 3 else "y", i)
        inbox = receiver.inbox()
        got_x = [await receive(on_x) for _ in range(len(on_x))]
        got_y = [(await receive(inbox)).payload for _ in range(len(inbox))]
        assert got_x == [i for i in range(500) if i % 3]
        assert got_y == [i for i in range(500) if not i % 3]


async def test_pattern_listeners() -> None:
    async with running() as host:
        sender, receiver = await probe(host), await probe(host)
        jobs = receiver.listen("job.*")
        exact = receiver.listen("job.urgent")
        first = receiver.listen("a*")
        second = receiver.listen("*b")
        inbox = receiver.inbox()
        for topic in ("job.1", "job.urgent", "job.", "ab", "xb", "a", "jobx", "a.b.c"):
            await sender.send(receiver.pid, topic, topic)
        assert [jobs.receive_nowait() for _ in range(len(jobs))] == ["job.1", "job."]
        assert [exact.receive_nowait()] == ["job.urgent"]
        assert [first.receive_nowait() for _ in range(len(first))] == ["ab", "a", "a.b.c"]
        assert [second.receive_nowait()] == ["xb"]
        assert [m.topic for m in list(inbox.queue.items)] == ["jobx"]


def test_pattern_characters_other_than_star_are_literal() -> None:
    mailbox = Mailbox()
    dotted = mailbox.listen("a.b*")
    inbox = mailbox.inbox()
    mailbox.deliver(Message("aXb1"))
    mailbox.deliver(Message("a.b1"))
    assert [m.topic for m in dotted.items] == ["a.b1"]
    assert [m.topic for m in inbox.items] == ["aXb1"]


async def test_unlisten_sends_later_messages_to_the_inbox() -> None:
    async with running() as host:
        sender, receiver = await probe(host), await probe(host)
        on_a = receiver.listen("a")
        inbox = receiver.inbox()
        await sender.send(receiver.pid, "a", 1)
        receiver.unlisten(on_a)
        await sender.send(receiver.pid, "a", 2)
        assert on_a.receive_nowait() == 1, "what the listener held stays there"
        assert len(on_a) == 0
        assert (await receive(inbox)).payload == 2
        pattern = receiver.listen("p*")
        receiver.unlisten(pattern)
        await sender.send(receiver.pid, "p1", 3)
        assert len(pattern) == 0
        assert (await receive(inbox)).payload == 3


async def test_same_channel_object_on_every_call() -> None:
    async with running() as host:
        ctx = await probe(host)
        assert ctx.inbox() is ctx.inbox()
        assert ctx.events() is ctx.events()
        assert ctx.listen("a") is ctx.listen("a")
        assert ctx.listen("p*") is ctx.listen("p*")
        mailbox = Mailbox()
        assert mailbox.listen("a") is mailbox.listen("a")
        assert mailbox.listen("a*") is mailbox.listen("a*")


async def test_empty_and_at_topics_are_rejected() -> None:
    async with running() as host:
        a, b = await probe(host), await probe(host)
        err = await raises(errors.INVALID, a.send(b.pid, "@system", 1))
        assert str(err) == "cannot send to @ topics"
        err = await raises(errors.INVALID, a.send(b.pid, "", 1))
        assert str(err) == "topic cannot be empty"
        with pytest.raises(ActorError, match=r"^cannot listen to @ topics$") as caught:
            b.listen("@x")
        assert caught.value.kind == errors.INVALID
        with pytest.raises(ActorError, match=r"^topic cannot be empty$") as caught:
            b.listen("")
        assert caught.value.kind == errors.INVALID
        assert len(b.inbox()) == 0
    assert check_topic("ok") == "ok"


# -- sending and names ----------------------------------------------------------------------


async def test_send_to_a_dead_pid_is_not_found() -> None:
    async with running() as host:
        ctx = await probe(host)
        dead = await spawn(host, returning(None))
        await wait_exit(host, dead)
        err = await raises(errors.NOT_FOUND, ctx.send(dead, "t", 1))
        assert "not found" in str(err)
        assert err.error.retryable is False
        never = PID(HOST, "0xfffff")
        assert "not found" in str(await raises(errors.NOT_FOUND, ctx.send(str(never), "t")))
        elsewhere = "{nowhere:host|0x00001}"
        assert "not found" in str(await raises(errors.NOT_FOUND, ctx.send(elsewhere, "t")))


async def test_send_to_an_unknown_name_cannot_resolve() -> None:
    async with running() as host:
        ctx = await probe(host)
        err = await raises(errors.NOT_FOUND, ctx.send("x", "t", 1))
        assert str(err) == "could not resolve: x"


async def test_names_register_lookup_unregister() -> None:
    async with running() as host:
        owner, other = await probe(host), await probe(host)
        owner.register("svc")
        owner.register("svc")  # the same PID again is fine
        assert owner.lookup("svc") == owner.pid
        await other.send("svc", "hello", 1)
        assert (await receive(owner.inbox())).payload == 1
        with pytest.raises(ActorError) as caught:
            other.register("svc")
        assert caught.value.kind == errors.ALREADY_EXISTS
        assert other.unregister("svc") is True
        assert other.unregister("svc") is False
        with pytest.raises(ActorError, match="could not resolve: svc"):
            other.lookup("svc")
        other.register("svc")
        assert owner.lookup("svc") == other.pid


async def test_unregister_needs_the_matching_scope() -> None:
    async with running() as host:
        ctx = await probe(host)
        node = host.node
        node.register("global", ctx.pid, EVENTUAL)
        assert node.names.unregister("global", LOCAL) is False
        assert node.names.lookup("global") == ctx.pid
        assert node.names.unregister("global", EVENTUAL) is True


async def test_a_name_cannot_look_like_a_pid_or_name_a_dead_process() -> None:
    async with running() as host:
        ctx = await probe(host)
        with pytest.raises(ActorError) as caught:
            ctx.register("{x|y}")
        assert caught.value.kind == errors.INVALID
        dead = await spawn(host, returning(None))
        await wait_exit(host, dead)
        with pytest.raises(ActorError) as caught:
            host.node.register("late", dead)
        assert caught.value.kind == errors.NOT_FOUND


async def test_names_are_released_when_the_owner_exits() -> None:
    async with running() as host:
        ctx = await probe(host)
        pid = await host.spawn(SpawnRequest(until_told, name="svc"))
        assert ctx.lookup("svc") == pid
        await ctx.send("svc", "done", None)
        await wait_exit(host, pid)
        with pytest.raises(ActorError, match=r"^could not resolve: svc$"):
            ctx.lookup("svc")
        err = await raises(errors.NOT_FOUND, ctx.send("svc", "t"))
        assert str(err) == "could not resolve: svc"
        ctx.register("svc")
        assert ctx.lookup("svc") == ctx.pid


async def test_spawn_with_a_name_registers_it_before_the_child_runs() -> None:
    async with running() as host:
        parent = await probe(host)

        async def who_am_i(ctx: ProcessContext) -> bool:
            return ctx.lookup("worker") == ctx.pid

        child = await parent.spawn(who_am_i, name="worker", monitor=True)
        event = await next_event(parent)
        assert (event.source, event.value, event.error) == (child, True, None)


async def test_spawn_with_a_taken_name_fails_and_leaves_nothing() -> None:
    async with running() as host:
        holder = await probe(host)
        holder.register("taken")
        before = set(host.processes)
        err = await raises(errors.ALREADY_EXISTS, holder.spawn(until_told, name="taken"))
        assert "taken" in str(err)
        assert set(host.processes) == before
        assert holder.lookup("taken") == holder.pid


# -- monitors -------------------------------------------------------------------------------


async def test_exit_with_value() -> None:
    async with running() as host:
        parent = await probe(host)
        child = await parent.spawn(returning({"answer": [42]}), monitor=True)
        event = await next_event(parent)
        assert (event.kind, event.source, event.value, event.error) == (
            EXIT,
            child,
            {"answer": [42]},
            None,
        )
        assert isinstance(event.at, int) and event.at > 0


async def test_exit_with_error() -> None:
    async with running() as host:
        parent = await probe(host)

        async def flaky(ctx: ProcessContext) -> None:
            raise errors.error(errors.TIMEOUT, "too slow", retryable=True, after=3)

        child = await parent.spawn(flaky, monitor=True)
        event = await next_event(parent)
        assert (event.kind, event.source, event.value) == (EXIT, child, None)
        assert event.error == Error("too slow", errors.TIMEOUT, True, {"after": 3})


async def test_python_exception_exits_as_internal_error() -> None:
    async with running() as host:
        parent = await probe(host)

        async def broken(ctx: ProcessContext) -> None:
            raise ValueError("boom")

        await parent.spawn(broken, monitor=True)
        event = await next_event(parent)
        assert event.error is not None
        assert (event.error.kind, event.error.message) == (errors.INTERNAL, "ValueError: boom")
        assert "ValueError" in event.error.stack


async def test_terminate_gives_canceled_process_terminated() -> None:
    async with running() as host:
        parent = await probe(host)
        child = await parent.spawn(until_told, monitor=True)
        await parent.terminate(child)
        event = await next_event(parent)
        assert (event.kind, event.source) == (EXIT, child)
        assert event.error == Error("process terminated", errors.CANCELED, False)


async def test_monitor_of_a_dead_pid_gives_exit_not_found_at_once() -> None:
    async with running() as host:
        watcher = await probe(host)
        dead = await spawn(host, returning(None))
        await wait_exit(host, dead)
        await watcher.monitor(dead)
        events = watcher.events()
        assert len(events) == 1, "the EXIT is queued by monitor() itself"
        event = events.receive_nowait()
        assert (event.kind, event.source) == (EXIT, dead)
        assert event.error is not None and event.error.kind == errors.NOT_FOUND
        assert "not found" in event.error.message
        unknown = PID.parse("{nowhere:host|0x00001}")
        await watcher.monitor(unknown)
        event = events.receive_nowait()
        assert (event.kind, event.source) == (EXIT, unknown)
        assert event.error is not None and event.error.kind == errors.NOT_FOUND


async def test_unmonitor_stops_further_exit_events() -> None:
    async with running() as host:
        watcher = await probe(host)
        child = await spawn(host, until_told)
        await watcher.monitor(child)
        await watcher.unmonitor(child)
        await watcher.terminate(child)
        await wait_exit(host, child)
        assert len(watcher.events()) == 0


async def test_ended_monitors_leave_no_bookkeeping() -> None:
    async with running() as host:
        watcher = await probe(host)
        for _ in range(20):
            await watcher.spawn(returning(None), monitor=True)
        for _ in range(20):
            await next_event(watcher)
        dead = await spawn(host, returning(None))
        await wait_exit(host, dead)
        await watcher.monitor(dead)
        assert host.processes[watcher.pid].watching == set()


async def test_spawn_monitored_child_that_exits_at_once_still_gives_exit() -> None:
    async with running() as host:
        parent = await probe(host)
        children = [await parent.spawn(returning(i), monitor=True) for i in range(10)]
        events = [await next_event(parent) for _ in children]
        assert sorted((e.source, e.value) for e in events) == list(
            zip(children, range(10), strict=True)
        )


# -- links ----------------------------------------------------------------------------------


async def test_abnormal_exit_cascades_through_a_link() -> None:
    async with running() as host:
        watcher = await probe(host)
        linked = await probe(host)
        failing_pid = await spawn(host, until_told)
        await linked.link(failing_pid)
        await watcher.monitor(linked.pid)
        await watcher.send(failing_pid, "fail", {"kind": errors.INTERNAL, "message": "boom"})
        event = await next_event(watcher)
        assert (event.kind, event.source) == (EXIT, linked.pid)
        assert event.error == Error(
            f"linked process failed: {failing_pid}",
            errors.CANCELED,
            False,
            {"linked_pid": str(failing_pid), "cause": "boom"},
        )
        assert not host.is_alive(linked.pid)


async def test_links_are_bidirectional() -> None:
    async with running() as host:
        watcher = await probe(host)
        a = await spawn(host, until_told)
        b = await probe(host)
        await b.link(a)
        await watcher.monitor(a)
        await b.terminate(b.pid)
        event = await next_event(watcher)
        assert (event.source, event.error and event.error.message) == (
            a,
            f"linked process failed: {b.pid}",
        )
        assert event.error is not None
        assert event.error.details == {"linked_pid": str(b.pid), "cause": "process terminated"}


async def test_trap_links_gives_link_down_and_keeps_running() -> None:
    async with running() as host:
        trapper = await probe(host)
        trapper.trap_links = True
        peer = await spawn(host, until_told)
        await trapper.link(peer)
        await trapper.send(peer, "fail", {"kind": errors.UNAVAILABLE, "message": "gone"})
        event = await next_event(trapper)
        assert (event.kind, event.source, event.value) == (LINK_DOWN, peer, None)
        assert event.error is not None
        assert (event.error.kind, event.error.message) == (errors.UNAVAILABLE, "gone")
        assert host.is_alive(trapper.pid)
        await trapper.send(trapper.pid, "still", "here")
        assert (await receive(trapper.inbox())).payload == "here"


async def test_terminate_of_a_linked_peer_gives_link_down_canceled() -> None:
    async with running() as host:
        trapper = await probe(host)
        trapper.trap_links = True
        peer = await spawn(host, until_told)
        await trapper.link(peer)
        await trapper.terminate(peer)
        event = await next_event(trapper)
        assert (event.kind, event.source) == (LINK_DOWN, peer)
        assert event.error == Error("process terminated", errors.CANCELED, False)


async def test_normal_exit_gives_no_link_down_and_no_cascade() -> None:
    async with running() as host:
        trapper = await probe(host)
        trapper.trap_links = True
        plain = await probe(host)
        peer = await spawn(host, until_told)
        await trapper.link(peer)
        await plain.link(peer)
        await trapper.cancel(peer, "please stop")
        await trapper.send(peer, "done", "ok")
        assert (await wait_exit(host, peer)).error is None
        assert len(trapper.events()) == 0
        assert host.is_alive(plain.pid) and len(plain.events()) == 0
        assert host.processes[trapper.pid].links == set()


async def test_unlink_stops_the_cascade_from_either_side() -> None:
    async with running() as host:
        a, b = await probe(host), await probe(host)
        peer1 = await spawn(host, until_told)
        peer2 = await spawn(host, until_told)
        await a.link(peer1)
        await a.unlink(peer1)
        await b.link(peer2)
        await host.node.unlink(peer2, b.pid)  # unlinked by the other side
        await a.terminate(peer1)
        await a.terminate(peer2)
        await wait_exit(host, peer1)
        await wait_exit(host, peer2)
        assert host.is_alive(a.pid) and host.is_alive(b.pid)


async def test_link_to_a_dead_pid_is_not_found() -> None:
    async with running() as host:
        ctx = await probe(host)
        dead = await spawn(host, returning(None))
        await wait_exit(host, dead)
        err = await raises(errors.NOT_FOUND, ctx.link(dead))
        assert "not found" in str(err)
        await raises(errors.NOT_FOUND, ctx.link("{nowhere:host|0x00001}"))
        assert host.processes[ctx.pid].links == set()


async def test_spawn_linked_child_that_fails_at_once_still_gives_link_down() -> None:
    async with running() as host:
        parent = await probe(host)
        parent.trap_links = True
        child = await parent.spawn(failing(errors.INTERNAL, "early"), link=True)
        event = await next_event(parent)
        assert (event.kind, event.source) == (LINK_DOWN, child)
        assert event.error is not None and event.error.message == "early"


async def test_a_chain_of_2000_linked_processes_cascades() -> None:
    async with running() as host:
        watcher = await probe(host)
        chain = [await spawn(host, until_told) for _ in range(2000)]
        node = host.node
        for before, after in itertools.pairwise(chain):
            await node.link(after, before)
        await watcher.monitor(chain[-1])
        await watcher.terminate(chain[0])
        event = await next_event(watcher)
        assert event.error is not None
        assert event.error.message == f"linked process failed: {chain[-2]}"
        assert not any(host.is_alive(pid) for pid in chain)
        assert set(host.processes) == {watcher.pid}


# -- cancel and terminate -----------------------------------------------------------------------


async def test_cancel_delivers_reason_and_requester_and_may_be_ignored() -> None:
    async with running() as host:
        requester = await probe(host)
        target = await probe(host)
        await requester.cancel(target.pid, "wrap up")
        await requester.cancel(target.pid)
        first, second = await next_event(target), await next_event(target)
        assert (first.kind, first.source, first.reason) == (CANCEL, requester.pid, "wrap up")
        assert (second.kind, second.reason) == (CANCEL, "")
        await anyio.sleep(0.01)
        assert host.is_alive(target.pid)
        await requester.send(target.pid, "still", "alive")
        assert (await receive(target.inbox())).payload == "alive"


async def test_cancel_then_normal_return_is_a_normal_exit() -> None:
    async with running() as host:
        parent = await probe(host)

        async def cooperative(ctx: ProcessContext) -> str:
            event = await ctx.next_event()
            return f"stopped: {event.reason}"

        child = await parent.spawn(cooperative, monitor=True)
        await parent.cancel(child, "bye")
        event = await next_event(parent)
        assert (event.source, event.value, event.error) == (child, "stopped: bye", None)


async def test_cancel_and_terminate_of_a_dead_pid_are_not_found() -> None:
    async with running() as host:
        ctx = await probe(host)
        dead = await spawn(host, returning(None))
        await wait_exit(host, dead)
        await raises(errors.NOT_FOUND, ctx.cancel(dead, "x"))
        await raises(errors.NOT_FOUND, ctx.terminate(dead))
        await raises(errors.NOT_FOUND, ctx.terminate("nobody"))


async def test_terminate_is_forced() -> None:
    async with running() as host:
        ctx = await probe(host)
        started, stopped = anyio.Event(), anyio.Event()

        async def stubborn(ctx: ProcessContext) -> None:
            started.set()
            try:
                while True:
                    event = await ctx.next_event()
                    assert event.kind == CANCEL  # ignored on purpose
            finally:
                stopped.set()

        pid = await host.spawn(SpawnRequest(stubborn, name="stubborn"))
        await ctx.monitor(pid)
        with anyio.fail_after(WAIT):
            await started.wait()
        await ctx.cancel(pid, "please")
        await ctx.terminate("stubborn")
        assert not host.is_alive(pid)
        event = await next_event(ctx)
        assert (event.kind, event.source) == (EXIT, pid)
        assert event.error == Error("process terminated", errors.CANCELED, False)
        with anyio.fail_after(WAIT):
            await stopped.wait()


async def test_a_dead_process_cannot_act_after_its_exit() -> None:
    async with running() as host:
        witness = await probe(host)
        after: list[str] = []

        async def suicidal(ctx: ProcessContext) -> None:
            await ctx.terminate(ctx.pid)
            after.append("ran on")
            await ctx.send(witness.pid, "from the grave", 1)
            after.append("sent")

        pid = await spawn(host, suicidal)
        event = await wait_exit(host, pid)
        assert event.error is not None and event.error.message == "process terminated"
        await anyio.sleep(0.01)
        assert after == ["ran on"]
        assert len(witness.inbox()) == 0


# -- spawning ---------------------------------------------------------------------------------


async def test_startup_messages_come_before_later_sends() -> None:
    async with running() as host:
        parent = await probe(host)

        async def collect(ctx: ProcessContext, count: int) -> list[Any]:
            got = []
            for _ in range(count):
                message = await ctx.receive()
                got.append([message.topic, message.payload, str(message.sender)])
            return got

        child = await parent.spawn(collect, 3, monitor=True, messages=(("a", 1), ("b", {"k": [2]})))
        await parent.send(child, "c", 3)
        event = await next_event(parent)
        me = str(parent.pid)
        assert event.value == [["a", 1, me], ["b", {"k": [2]}, me], ["c", 3, me]]


async def test_bad_startup_messages_fail_the_spawn_and_leave_nothing() -> None:
    async with running() as host:
        parent = await probe(host)
        before = set(host.processes)
        err = await raises(
            errors.INVALID, parent.spawn(until_told, monitor=True, messages=(("t", print),))
        )
        assert "cannot be sent to another process" in str(err)
        await raises(errors.INVALID, parent.spawn(until_told, messages=(("@t", 1),)))
        assert set(host.processes) == before
        assert len(parent.events()) == 0


# -- shutdown ---------------------------------------------------------------------------------


async def test_shutdown_cancels_then_terminates_within_the_grace_period() -> None:
    grace = 0.3
    seen: list[Event] = []
    polite_cancel: list[Event] = []

    async def polite(ctx: ProcessContext) -> str:
        polite_cancel.append(await ctx.next_event())
        return "bye"

    async def stubborn(ctx: ProcessContext) -> None:
        await anyio.sleep_forever()

    async def watcher(ctx: ProcessContext, *targets: str) -> None:
        for target in targets:
            await ctx.monitor(target)
        while True:
            event = await ctx.next_event()
            if event.kind == CANCEL:
                return
            seen.append(event)

    node = Node(shutdown_grace=grace)
    async with node:
        # Hosts stop in reverse order: the watcher's host outlives the watched one.
        watch_host = node.add_host(PythonHost("test:watch"))
        host = node.add_host(PythonHost(HOST))
        p = await host.spawn(SpawnRequest(polite))
        s = await host.spawn(SpawnRequest(stubborn))
        await watch_host.spawn(SpawnRequest(watcher, (str(p), str(s))))
        await anyio.sleep(0.01)
        started = time.monotonic()
    elapsed = time.monotonic() - started
    assert grace * 0.9 <= elapsed < grace + 2.0
    assert [(e.kind, e.source) for e in polite_cancel] == [(CANCEL, SYSTEM)]
    by_source = {e.source: e for e in seen}
    assert set(by_source) == {p, s}
    assert (by_source[p].value, by_source[p].error) == ("bye", None)
    assert by_source[s].error == Error("process terminated", errors.CANCELED, False)
    assert host.processes == {} and watch_host.processes == {}


async def test_shutdown_does_not_wait_for_the_grace_period_when_all_exit() -> None:
    async def polite(ctx: ProcessContext) -> None:
        await ctx.next_event()

    node = Node(shutdown_grace=30.0)
    async with node:
        host = node.add_host(PythonHost(HOST))
        for _ in range(10):
            await host.spawn(SpawnRequest(polite))
        await anyio.sleep(0.01)
        started = time.monotonic()
    assert time.monotonic() - started < 5.0
    assert host.processes == {}


def test_process_relations_start_shared_and_change_through_relate() -> None:
    """Every process starts with one shared empty relation (memory per idle process); it
    becomes a set of its own on the first relation, and adding to the shared one directly
    is refused with a message naming the way, so no process sees another's relations."""
    from actors.local_host import LocalProcess

    first, second = LocalProcess(PID.parse("{a|1}")), LocalProcess(PID.parse("{a|2}"))
    assert first.links is second.links and not first.links
    peer = PID.parse("{a|3}")
    with pytest.raises(TypeError, match=r"LocalProcess\.relate"):
        first.links.add(peer)  # type: ignore[attr-defined]
    first.relate("links", peer)
    first.discard("watchers", peer)  # nothing to discard: no error
    assert first.links == {peer} and not second.links
    first.discard("links", peer)
    assert not first.links
