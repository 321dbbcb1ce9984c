"""Erlang-style processes whose code is Lua (or Python), on local and durable hosts.

The public Python API::

    import actors

    async def asker(process: actors.Process, greeter: actors.PID) -> str:
        await process.send(greeter, "hello", "Python")
        reply = await process.receive()
        return reply.payload

    async with actors.App("examples/hello") as app:
        greeter = await app.spawn("hello:greeter")
        print(await app.run(asker, greeter))

Everything else under `actors` is the runtime's own machinery and may change.
docs/guide/python-api.md is the guide.
"""

from actors.app import PYTHON_HOST, App, Exit
from actors.errors import (
    ActorError,
    AlreadyExistsError,
    CanceledError,
    ConflictError,
    Error,
    InternalError,
    InvalidError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    TimedOutError,
    UnavailableError,
)
from actors.messages import CANCEL, EXIT, LINK_DOWN, Event, Message
from actors.pid import PID
from actors.python_host import Channel
from actors.python_host import ProcessContext as Process

__all__ = [
    "CANCEL",
    "EXIT",
    "LINK_DOWN",
    "PID",
    "PYTHON_HOST",
    "ActorError",
    "AlreadyExistsError",
    "App",
    "CanceledError",
    "Channel",
    "ConflictError",
    "Error",
    "Event",
    "Exit",
    "InternalError",
    "InvalidError",
    "Message",
    "NotFoundError",
    "PermissionDeniedError",
    "Process",
    "RateLimitedError",
    "TimedOutError",
    "UnavailableError",
]
