"""Messages between Lua processes of one host, which stay inside Lua (issue 8).

The value is copied Lua-to-Lua and parked in the receiver's context; these tests pin the
edges of that path: the copy is private, the errors for values that cannot cross are the
same as through Python, and nothing is lost or reordered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.lua_harness import ECHO, lua_entry, run_lua

pytestmark = pytest.mark.anyio

ENTRIES = [lua_entry("echo"), lua_entry("quit")]
FILES = {"echo.lua": ECHO, "quit.lua": "return {main = function() return 1 end}"}


async def run(tmp_path: Path, main: str, **app: Any) -> Any:
    event = await run_lua(tmp_path, main, files=FILES, entries=ENTRIES, **app)
    assert event.error is None, event.error
    return event.value


async def test_the_receiver_gets_a_private_copy(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        return {main = function()
          local echo = process.spawn("test:echo", "test:processes")
          local t = {list = {1, {deep = {2, 3}}}, map = {k = "v"}, [2.5] = "float key"}
          process.send(echo, "t", t)
          t.list[2].deep[3] = 99
          t.map.k = "changed"
          local got = process.inbox():receive():payload():data()
          process.send(echo, "stop")
          return {got = got, same = rawequal(got, t), float_key = got[2.5]}
        end}
        """,
    )
    assert value["got"]["list"] == [1, {"deep": [2, 3]}]
    assert value["got"]["map"] == {"k": "v"}
    assert value["same"] is False
    assert value["float_key"] == "float key"


async def test_send_to_self(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        return {main = function()
          local t = {n = 1}
          assert(process.send(process.pid(), "me", t) == true)
          t.n = 2
          local msg = process.inbox():receive()
          local from = msg:from() == process.pid()
          return {from = from, topic = msg:topic(), n = msg:payload():data().n}
        end}
        """,
    )
    assert value == {"from": True, "topic": "me", "n": 1}


async def test_values_that_cannot_cross_are_refused_at_the_sender(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        return {main = function()
          local echo = process.spawn("test:echo", "test:processes")
          local cyclic = {}
          cyclic.me = cyclic
          local deep = {}
          local t = deep
          for _ = 1, 200 do t.next = {}; t = t.next end
          local out = {}
          for name, v in pairs({
            fn = {f = function() end},
            co = {coroutine.create(function() end)},
            cycle = cyclic,
            deep = deep,
            channel = {channel.new()},
            key = {[{}] = 1},
          }) do
            local ok, err = process.send(echo, "t", v)
            out[name] = {ok = ok == true, kind = err and err:kind(), message = tostring(err)}
          end
          -- nothing of the refused sends arrived; the next message is the first one echoed
          process.send(echo, "t", "after")
          out.next = process.inbox():receive():payload():data()
          process.send(echo, "stop")
          return out
        end}
        """,
    )
    for name in ("fn", "co", "cycle", "deep", "channel", "key"):
        assert value[name]["ok"] is False, name
        assert value[name]["kind"] == "Invalid", name
        assert "cannot be sent to another process" in value[name]["message"], name
    assert "function" in value["fn"]["message"]
    assert "thread" in value["co"]["message"]
    assert "cycle" in value["cycle"]["message"]
    assert "nested deeper than 128" in value["deep"]["message"]
    assert "channel" in value["channel"]["message"]
    assert "table key" in value["key"]["message"]
    assert value["next"] == "after"


async def test_runtime_objects_cross_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local time = require("time")
        return {main = function()
          local echo = process.spawn("test:echo", "test:processes")
          local err = errors.new({kind = errors.CONFLICT, message = "no stock", retryable = true})
          process.send(echo, "t", {err = err, d = time.parse_duration("1s")})
          local got = process.inbox():receive():payload():data()
          local timer = time.timer(time.parse_duration("1h"))  -- its state is Python's
          local ok, refused = process.send(echo, "t", {state = timer.state})
          timer:stop()
          process.send(echo, "stop")
          return {
            kind = got.err:kind(), retryable = got.err:retryable(),
            seconds = got.d:seconds(), refused = ok == nil and refused:kind(),
          }
        end}
        """,
        modules=["time"],
    )
    assert value == {"kind": "Conflict", "retryable": True, "seconds": 1, "refused": "Invalid"}


async def test_send_to_a_process_that_exited_in_the_same_batch(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        return {main = function()
          local events = process.events()
          local pid = process.spawn_monitored("test:quit", "test:processes")
          local before_ok = process.send(pid, "t", 1)  -- it has not run yet: queued
          events:receive()                              -- it ran and exited
          local ok, err = process.send(pid, "t", 2)
          return {before = before_ok, ok = ok, kind = err and err:kind()}
        end}
        """,
    )
    assert value == {"before": True, "kind": "NotFound"}  # ok is nil


async def test_a_full_mailbox_keeps_every_message_in_order(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        return {main = function()
          local n = 20000
          for i = 1, n do process.send(process.pid(), "t", {i = i}) end
          local inbox, expected = process.inbox(), 1
          for _ = 1, n do
            local i = inbox:receive():payload():data().i
            if i ~= expected then return {bad = i, expected = expected} end
            expected = expected + 1
          end
          return {count = expected - 1, left = #inbox}
        end}
        """,
    )
    assert value == {"count": 20000, "left": 0}


async def test_a_huge_table(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        return {main = function()
          local echo = process.spawn("test:echo", "test:processes")
          local big = {}
          for i = 1, 200000 do big[i] = {i, tostring(i)} end
          process.send(echo, "t", big)
          local got = process.inbox():receive():payload():data()
          process.send(echo, "stop")
          return {n = #got, last = got[200000][2], copy = not rawequal(got, big)}
        end}
        """,
        timeout=60,
    )
    assert value == {"n": 200000, "last": "200000", "copy": True}


# A receiver parked on its inbox in each shape that `rt.send_local` leaves to `deliver`:
# two tasks of one process waiting on the inbox, a select over the inbox and another
# channel, and a `listen` channel beside the parked inbox. It reports what each got.
WAITER = """
return {main = function(parent, shape)
  local inbox, got = process.inbox(), {}
  local finished = channel.new(2)
  if shape == "two tasks" then
    for k = 1, 2 do
      coroutine.spawn(function()
        got[k] = inbox:receive():payload():data()
        finished:send(true)
      end)
    end
    process.send(parent, "ready")
    finished:receive(); finished:receive()
  elseif shape == "select" then
    local other = channel.new(1)
    process.send(parent, "ready")
    local case = channel.select({other:case_receive(), inbox:case_receive()})
    other:send("after")
    got = {case.channel == inbox, case.value:payload():data(), other:receive(),
           inbox:receive():payload():data()}
  else  -- "listen"
    local side = process.listen("side")
    process.send(parent, "ready")
    got = {inbox:receive():payload():data(), side:receive(), #side}
  end
  process.send(parent, "got", got)
end}
"""


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("two tasks", [1, 2]),
        ("select", [True, 1, "after", 2]),
        ("listen", [2, 1, 0]),
    ],
)
async def test_a_parked_receiver_in_each_shape_gets_every_message_once_in_order(
    tmp_path: Path, shape: str, expected: list[Any]
) -> None:
    topics = {"two tasks": ("m", "m"), "select": ("m", "m"), "listen": ("side", "m")}[shape]
    value = await run_lua(
        tmp_path,
        f"""
        return {{main = function()
          local inbox = process.inbox()
          local pid = process.spawn("test:waiter", "test:processes", process.pid(), "{shape}")
          inbox:receive()  -- "ready": its tasks are parked on the inbox
          process.send(pid, "{topics[0]}", 1)
          process.send(pid, "{topics[1]}", 2)
          return inbox:receive():payload():data()
        end}}
        """,
        files={**FILES, "waiter.lua": WAITER},
        entries=[*ENTRIES, lua_entry("waiter")],
    )
    assert value.error is None, value.error
    assert value.value == expected


async def test_listen_without_message_gets_the_value_and_with_message_the_message(
    tmp_path: Path,
) -> None:
    value = await run(
        tmp_path,
        """
        return {main = function()
          local raw = process.listen("raw")
          local full = process.listen("full", {message = true})
          process.send(process.pid(), "raw", {x = 1})
          process.send(process.pid(), "full", {y = 2})
          process.send(process.pid(), "other", "inbox")
          local case = channel.select({raw:case_receive()})
          local msg = full:receive()
          return {
            raw = case.value.x,
            full = msg:payload():data().y, topic = msg:topic(),
            inbox = process.inbox():receive():payload():data(),
          }
        end}
        """,
    )
    assert value == {"raw": 1, "full": 2, "topic": "full", "inbox": "inbox"}


async def test_a_payload_crosses_as_its_data(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        return {main = function()
          process.send(process.pid(), "a", {1, 2})
          local msg = process.inbox():receive()
          process.send(process.pid(), "b", msg:payload())
          return process.inbox():receive():payload():data()
        end}
        """,
    )
    assert value == [1, 2]


async def test_a_closed_process_channel_hands_out_what_it_holds_then_says_closed(
    tmp_path: Path,
) -> None:
    """The receive of a process channel (inbox, events, a listener) takes a short path of
    its own (`C.receive` in core.lua): a task parked on it when it closes wakes with
    (nil, false), and a closed channel still hands out the messages it holds first."""
    value = await run(
        tmp_path,
        """
        return {main = function()
          local inbox = process.inbox()
          local side = process.listen("side")
          local done = channel.new(1)
          local parked
          coroutine.spawn(function()
            process.send(process.pid(), "m", 1)
            local v, ok = side:receive()  -- parks: nothing comes on "side"
            parked = {v = v, ok = ok}
            done:send(true)
          end)
          local got = {inbox:receive():payload():data()}  -- the task has parked
          process.send(process.pid(), "m", 2)
          process.send(process.pid(), "m", 3)
          side:close()
          inbox:close()
          done:receive()
          for _ = 1, 3 do
            local msg, ok = inbox:receive()
            got[#got + 1] = ok and msg:payload():data() or tostring(ok)
          end
          local again, ok = side:receive()
          return {got = got, parked = parked, again = tostring(again), ok = ok}
        end}
        """,
    )
    assert value == {
        "got": [1, 2, 3, "false"],
        "parked": {"ok": False},
        "again": "nil",
        "ok": False,
    }


async def test_tasks_taking_turns_on_one_inbox_each_get_their_own_messages(
    tmp_path: Path,
) -> None:
    """A parked receive of a process channel reuses the channel's last waiter once that
    one has fired and its task has run (`st.spare` in core.lua): two tasks parked on the
    same inbox in turn, each woken by one message, get every message once, in order."""
    value = await run(
        tmp_path,
        """
        return {main = function()
          local inbox = process.inbox()
          local acks = channel.new(0)
          local got = {a = {}, b = {}}
          for _, name in ipairs({"a", "b"}) do
            coroutine.spawn(function()
              while true do
                local msg = inbox:receive()  -- parks: main sends one at a time
                local n = msg:payload():data()
                table.insert(got[name], n)
                acks:send(n)
                if n > 18 then return end
              end
            end)
          end
          for n = 1, 20 do
            process.send(process.pid(), "n", n)
            assert(acks:receive() == n)
          end
          return got
        end}
        """,
    )
    everything = sorted(value["a"] + value["b"])
    assert everything == list(range(1, 21))
    assert value["a"] == sorted(value["a"]) and value["b"] == sorted(value["b"])
    assert value["a"] and value["b"]  # both tasks took turns


async def test_tasks_bouncing_values_over_channels_get_each_one_once(tmp_path: Path) -> None:
    """A send that parks reuses the channel's last send entry once a receive has taken
    it (`st.spare_send` in core.lua): here every send parks (each task sends before the
    other asks), every other receive is a select, and the close at the end still wakes the
    task that waits."""
    value = await run(
        tmp_path,
        """
        return {main = function()
          local there, back = channel.new(0), channel.new(0)
          coroutine.spawn(function()
            local turn = 0
            while true do
              local v, ok
              turn = turn + 1
              if turn % 2 == 1 then
                v, ok = there:receive()
              else
                local r = channel.select({there:case_receive()})
                v, ok = r.value, r.ok
              end
              if not ok then back:close(); return end
              back:send(v * 2)
            end
          end)
          local got = {}
          for i = 1, 60 do
            there:send(i)
            got[#got + 1] = back:receive()
          end
          there:close()
          local last, ok = back:receive()
          return {got = got, after_close = tostring(last), ok = ok}
        end}
        """,
    )
    assert value["got"] == [2 * i for i in range(1, 61)]
    assert value["after_close"] == "nil"
    assert value["ok"] is False


async def test_a_receive_that_parks_on_a_channel_again_and_again_gets_each_value_once(
    tmp_path: Path,
) -> None:
    """The other side of the test above: here the receives park (each task asks before
    the other has sent), so every one but the first takes the channel's spare waiter
    (`receive_waiter` in core.lua)."""
    value = await run(
        tmp_path,
        """
        return {main = function()
          local there, back = channel.new(0), channel.new(0)
          local got = {}
          coroutine.spawn(function()
            for i = 1, 60 do
              there:send(i)
              got[#got + 1] = back:receive()
            end
            there:close()
          end)
          local seen = 0
          while true do
            local v, ok = there:receive()
            if not ok then break end
            seen = seen + 1
            back:send(v * 2)
          end
          return {got = got, seen = seen}
        end}
        """,
    )
    assert value["got"] == [2 * i for i in range(1, 61)]
    assert value["seen"] == 60
