"""`InlineReader` takes a node's frames off the socket only when nothing received earlier is
still waiting in nats-py, so every frame is handled once and in the order sent."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from nats.protocol.parser import Parser

from actors.cluster.inline import InlineReader

pytestmark = pytest.mark.anyio


def msg(
    payload: bytes, sid: int = 7, subject: bytes = b"actors.node.a", reply: bytes = b""
) -> bytes:
    head = b"MSG %s %d %s%d\r\n" % (subject, sid, reply + b" " if reply else b"", len(payload))
    return head + payload + b"\r\n"


def reader_and_frames() -> tuple[asyncio.StreamReader, list[bytes]]:
    reader = asyncio.StreamReader()
    nc = SimpleNamespace(_transport=SimpleNamespace(_io_reader=reader), _ps=Parser())
    frames: list[bytes] = []
    InlineReader(nc, 7, frames.append).attach()
    return reader, frames


async def test_complete_frames_at_the_head_are_taken_at_once() -> None:
    reader, frames = reader_and_frames()
    reader.feed_data(msg(b"one") + msg(b"") + msg(b"three\r\nwith a line break"))
    assert frames == [b"one", b"", b"three\r\nwith a line break"]
    assert not reader._buffer  # nothing left for nats-py


async def test_what_follows_anything_else_goes_to_nats_py_in_order() -> None:
    reader, frames = reader_and_frames()
    rest = b"PING\r\n" + msg(b"two")
    reader.feed_data(msg(b"one") + rest)
    assert frames == [b"one"]
    assert bytes(reader._buffer) == rest
    # nats-py has bytes waiting: a later frame must queue behind them, not overtake them.
    reader.feed_data(msg(b"three"))
    assert frames == [b"one"]
    assert bytes(reader._buffer) == rest + msg(b"three")


@pytest.mark.parametrize(
    "data",
    [
        msg(b"other subscription", sid=8),
        msg(b"with a reply subject", reply=b"_INBOX.x"),
        b"HMSG actors.node.a 7 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
        msg(b"split across reads")[:-5],
        b"MSG actors.node.a 7 x\r\nabc\r\n",
    ],
)
async def test_anything_but_a_complete_plain_frame_goes_to_nats_py(data: bytes) -> None:
    reader, frames = reader_and_frames()
    reader.feed_data(data)
    assert frames == []
    assert bytes(reader._buffer) == data


async def test_nothing_is_taken_while_the_parser_is_inside_a_message() -> None:
    reader = asyncio.StreamReader()
    parser = Parser()
    parser.buf.extend(b"half a mess")  # nats-py is still collecting an earlier message
    nc = SimpleNamespace(_transport=SimpleNamespace(_io_reader=reader), _ps=parser)
    frames: list[bytes] = []
    InlineReader(nc, 7, frames.append).attach()
    reader.feed_data(msg(b"later"))
    assert frames == []
    assert bytes(reader._buffer) == msg(b"later")
