"""A two-process demo on the local Python host: a worker linked to and monitored by a
supervisor. The worker fails; the supervisor traps the link and sees both LINK_DOWN and EXIT.

Run with `make run` (or `.venv/bin/python examples/py_demo.py`).
"""

from __future__ import annotations

import anyio

from actors.errors import error
from actors.host import SpawnRequest
from actors.messages import EXIT, LINK_DOWN
from actors.node import Node
from actors.python_host import ProcessContext, PythonHost


async def worker(ctx: ProcessContext, jobs: int) -> None:
    inbox = ctx.inbox()
    for _ in range(jobs):
        message = await inbox.receive()
        print(f"  worker {ctx.pid} got {message.topic} {message.payload}")
        await ctx.send(message.sender, "done", message.payload * 2)
    raise error("Internal", "worker gave up after its last job")


async def supervisor(ctx: ProcessContext) -> str:
    ctx.trap_links = True
    child = await ctx.spawn(worker, 2, link=True, monitor=True)
    print(f"supervisor {ctx.pid} spawned worker {child} (linked and monitored)")
    for n in (1, 2):
        await ctx.send(child, "job", n)
        reply = await ctx.receive()
        print(f"supervisor got {reply.topic} {reply.payload}")
    seen = []
    events = ctx.events()
    while len(seen) < 2:
        event = await events.receive()
        seen.append(event.kind)
        print(f"supervisor event {event.kind} from {event.source}: {event.error}")
    assert set(seen) == {EXIT, LINK_DOWN}
    return "supervisor saw the worker fail and kept running"


async def main() -> None:
    async with Node() as node:
        host = node.add_host(PythonHost("demo:processes"))
        done = anyio.Event()

        async def root(ctx: ProcessContext) -> None:
            pid = await ctx.spawn(supervisor, monitor=True)
            event = await ctx.next_event()
            print(f"root: {pid} exited with {event.value!r}")
            done.set()

        await host.spawn(SpawnRequest(root))
        with anyio.fail_after(10):
            await done.wait()


if __name__ == "__main__":
    anyio.run(main)
