"""`InlineReader`: a node's frames taken off the socket as they arrive.

nats-py hands what the socket receives to an `asyncio.StreamReader`; a reader task wakes on
the next pass of the event loop, parses the bytes and dispatches each message. On the hot
path of a ping-pong between nodes that is one more pass of the loop, a task switch and a
`Msg` per frame batch. `InlineReader` sits on the reader's `feed_data`: while nats-py holds
no bytes of its own (nothing received earlier waits to be parsed), each complete `MSG` of
the frames subscription at the head of the new bytes goes to the handler at once. The first
thing that is anything else (a heartbeat, a PING, a partial message, a message with headers
or a reply subject) and everything after it goes to nats-py as before, and the next bytes
are taken inline again only once nats-py has worked through them: so messages of the
subscription are handled exactly once and in the order the server sent them.

This reads private parts of nats-py (`Client._transport._io_reader`, `Client._ps`), pinned
below 3 in pyproject.toml; transports without a stream reader (WebSocket) keep nats-py's
path. `attach` again after every reconnection: each connection has its own reader.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nats.protocol.parser import AWAITING_CONTROL_LINE

log = logging.getLogger(__name__)


class InlineReader:
    def __init__(self, nc: Any, sid: int, handler: Callable[[bytes], None]) -> None:
        self._nc = nc
        self._sid = str(sid).encode()
        self._handler = handler

    def attach(self) -> None:
        """Sit on the current connection's stream reader (once per reader)."""
        reader = getattr(self._nc._transport, "_io_reader", None)
        if reader is None or getattr(reader, "_actors_inline", None) is self:
            return
        feed = reader.feed_data
        parser = self._nc._ps
        take = self._take

        def feed_data(data: bytes) -> None:
            if reader._buffer or parser.buf or parser.state != AWAITING_CONTROL_LINE:
                feed(data)
                return
            rest = take(data)
            if rest:
                feed(rest)

        reader.feed_data = feed_data
        reader._actors_inline = self

    def _take(self, data: bytes) -> bytes:
        """Handle the complete frames messages at the head of `data`; return the rest."""
        pos, size = 0, len(data)
        sid, handler = self._sid, self._handler
        while data.startswith(b"MSG ", pos):
            eol = data.find(b"\r\n", pos)
            if eol < 0:
                break
            # MSG <subject> <sid> <size>: a reply subject or headers go to nats-py.
            fields = data[pos + 4 : eol].split()
            if len(fields) != 3 or fields[1] != sid or not fields[2].isdigit():
                break
            start = eol + 2
            end = start + int(fields[2])
            if end + 2 > size:
                break
            pos = end + 2
            try:
                handler(data[start:end])
            except Exception:
                log.exception("cannot apply a batch of frames")
        return data[pos:] if pos else data
