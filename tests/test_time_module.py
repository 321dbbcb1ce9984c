"""The Lua `time` module (lua-api §6, §17.4), driven through real Lua processes.

Formatting and parsing details are covered against Go in `test_gotime.py`; here we check what
Lua code sees: the functions, the methods of Time / Duration / Location values, integer
results, errors, blocking behaviour and timers, and values crossing process boundaries.
Timers are a few milliseconds long so the whole file stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actors.errors import Error
from actors.values import copy_value, pack_value, unpack_value
from corelib import gotime
from corelib.gotime import UTC, Duration, GoTime, Local, Location
from lua_bindings.modules.time import TickerState, TimerState
from lua_bindings.timevalues import pack_location
from tests.lua_harness import HOST, run_lua

pytestmark = pytest.mark.anyio


async def run(tmp_path: Path, body: str, *args: Any, **app: Any) -> Any:
    """Run `body` as the main function (with `time` required) and return its value."""
    source = f'local time = require("time")\nreturn {{main = function(...)\n{body}\nend}}\n'
    modules = app.pop("modules", ["time"])
    event = await run_lua(tmp_path, source, *args, modules=modules, **app)
    assert event.error is None, event.error
    return event.value


async def fails(tmp_path: Path, body: str, **app: Any) -> Error:
    source = f'local time = require("time")\nreturn {{main = function(...)\n{body}\nend}}\n'
    event = await run_lua(tmp_path, source, modules=["time"], **app)
    assert event.error is not None
    return event.error


# -- module table -----------------------------------------------------------------------------


async def test_require_needs_the_module_in_the_allow_list(tmp_path: Path) -> None:
    event = await run_lua(
        tmp_path,
        """return {main = function()
          local ok, err = pcall(require, "time")
          return {ok, err:kind()}
        end}""",
        modules=[],
    )
    assert event.value == [False, "Invalid"]


async def test_constants(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local ints = {}
        for _, n in ipairs({"NANOSECOND", "MICROSECOND", "MILLISECOND", "SECOND", "MINUTE",
                            "HOUR", "JANUARY", "DECEMBER", "SUNDAY", "SATURDAY"}) do
          ints[n] = math.type(time[n]) == "integer" and time[n]
        end
        return {ints = ints, rfc3339 = time.RFC3339, nano = time.RFC3339NANO,
                date_time = time.DATE_TIME, date_only = time.DATE_ONLY,
                time_only = time.TIME_ONLY, kitchen = time.KITCHEN,
                stamp_milli = time.STAMP_MILLI, rfc1123z = time.RFC1123Z,
                utc = tostring(time.utc), localtz = time.localtz:string(),
                utc_string = time.utc:string()}
        """,
    )
    assert value["ints"] == {
        "NANOSECOND": 1,
        "MICROSECOND": 1000,
        "MILLISECOND": 1_000_000,
        "SECOND": 1_000_000_000,
        "MINUTE": 60_000_000_000,
        "HOUR": 3_600_000_000_000,
        "JANUARY": 1,
        "DECEMBER": 12,
        "SUNDAY": 0,
        "SATURDAY": 6,
    }
    assert value["rfc3339"] == "2006-01-02T15:04:05Z07:00"
    assert value["nano"] == "2006-01-02T15:04:05.999999999Z07:00"
    assert value["date_time"] == "2006-01-02 15:04:05"
    assert value["date_only"] == "2006-01-02"
    assert value["time_only"] == "15:04:05"
    assert value["kitchen"] == "3:04PM"
    assert value["stamp_milli"] == "Jan _2 15:04:05.000"
    assert value["rfc1123z"] == "Mon, 02 Jan 2006 15:04:05 -0700"
    assert value["utc"] == value["utc_string"] == "UTC"
    assert value["localtz"] == "Local"


async def test_functions_and_methods_are_lua_functions(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t, d = time.now(), time.parse_duration("1s")
        return {type(time.now), type(time.sleep), type(t), type(t.add), type(d),
                type(d.milliseconds), type(time.utc), type(time.utc.string)}
        """,
    )
    assert value == [
        "function",
        "function",
        "userdata",
        "function",
        "userdata",
        "function",
        "userdata",
        "function",
    ]


# -- constructing times -------------------------------------------------------------------------


async def test_now_is_local_and_current(tmp_path: Path) -> None:
    before = gotime.now().unix_ns
    value = await run(
        tmp_path, "local t = time.now(); return {t:unix_nano(), t:location():string()}"
    )
    after = gotime.now().unix_ns
    assert before <= value[0] <= after
    assert value[1] == "Local"


async def test_date_normalises_and_defaults_to_local(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local a = time.date(2024, 2, 30, 25, 61, 0, 0, time.utc)   -- Feb 30 25:61 -> Mar 2 02:01
        local b = time.date(2023, 13, 1, 0, 0, 0, 0, time.utc)     -- month 13 -> next January
        local c = time.date(2024, 1, 1, 0, 0, 0, 0)
        local y, m, d = a:date()
        local h, mi, s = a:clock()
        return {y, m, d, h, mi, s, b:format(time.DATE_ONLY), c:location():string(),
                a:location():string()}
        """,
    )
    assert value == [2024, 3, 2, 2, 1, 0, "2024-01-01", "Local", "UTC"]


async def test_date_rejects_bad_arguments(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local ok, err = pcall(time.date, "x", 1, 1)
        local ok2, err2 = pcall(time.date, 2024, 1, 1, 0, 0, 0, 0, "UTC")
        return {ok, err:kind(), err:retryable(), ok2, err2:kind()}
        """,
    )
    assert value == [False, "Invalid", False, False, "Invalid"]


async def test_unix(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t = time.unix(1700000000, 1500000000)   -- nsec carries into seconds
        return {t:unix(), math.type(t:unix()), t:unix_nano(), math.type(t:unix_nano()),
                t:nanosecond(), t:location():string(),
                t:utc():format(time.RFC3339NANO), time.unix(0, 0):utc():format(time.RFC3339)}
        """,
    )
    assert value == [
        1700000001,
        "integer",
        1700000001_500000000,
        "integer",
        500000000,
        "Local",
        "2023-11-14T22:13:21.5Z",
        "1970-01-01T00:00:00Z",
    ]


# -- Time methods ------------------------------------------------------------------------------


async def test_time_getters(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t = time.date(2024, 3, 15, 13, 4, 5, 6, time.utc)   -- a Friday
        local out = {}
        for _, name in ipairs({"year", "month", "day", "hour", "minute", "second",
                               "nanosecond", "weekday", "year_day"}) do
          local v = t[name](t)
          out[#out + 1] = math.type(v) == "integer" and v
        end
        out[#out + 1] = t:is_zero()
        out[#out + 1] = time.date(1, 1, 1, 0, 0, 0, 0, time.utc):is_zero()
        out[#out + 1] = t:weekday() == time.FRIDAY
        out[#out + 1] = t:month() == time.MARCH
        return out
        """,
    )
    assert value == [2024, 3, 15, 13, 4, 5, 6, 5, 75, False, True, True, True]


async def test_add_sub_and_compare(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t = time.date(2024, 1, 1, 0, 0, 0, 0, time.utc)
        local a = t:add(90 * time.MINUTE)
        local b = t:add("1h30m")
        local c = t:add(time.parse_duration("1h30m"))
        local e = t:add(1.9)                         -- fractional ns truncated
        local d = a:sub(t)
        local back = t:sub(a)
        return {
          a:format(time.RFC3339), b:equal(a), c:equal(a), e:nanosecond(),
          tostring(d), d:minutes(), tostring(back), back:milliseconds(),
          t:before(a), t:after(a), a:after(t), a:equal(t),
          t < a, a <= a, a < t, a == b, a:in_location(time.fixed_zone("X", 3600)) == a,
          t:add(-time.HOUR):format(time.DATE_TIME),
        }
        """,
    )
    assert value == [
        "2024-01-01T01:30:00Z",
        True,
        True,
        1,
        "1h30m0s",
        90.0,
        "-1h30m0s",
        -5400000,
        True,
        False,
        True,
        False,
        True,
        True,
        False,
        True,
        False,  # == is Go's ==: same instant in another location is not ==
        "2023-12-31 23:00:00",
    ]


async def test_add_date(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t = time.date(2023, 10, 31, 12, 0, 0, 0, time.utc)
        return {t:add_date(0, 1, 0):format(time.DATE_ONLY),
                t:add_date(1, 0, 1):format(time.DATE_ONLY),
                t:add_date(0, 0, -31):format(time.DATE_TIME)}
        """,
    )
    assert value == ["2023-12-01", "2024-11-01", "2023-09-30 12:00:00"]


async def test_format_and_tostring(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t = time.date(2009, 11, 10, 23, 4, 5, 123456789, time.utc)
        local z = time.fixed_zone("EST", -5 * 3600)
        return {
          tostring(t), t:format_rfc3339(), t:format(time.RFC3339NANO),
          t:format("Mon Jan _2 03:04:05.000 PM 2006 MST"), t:format(time.KITCHEN),
          t:in_location(z):format(time.RFC1123Z), t:in_location(z):format(time.RFC822),
          tostring(t:in_location(z)), t:format("002 __2"), "at " .. t:format(time.DATE_ONLY),
        }
        """,
    )
    assert value == [
        "2009-11-10 23:04:05.123456789 +0000 UTC",
        "2009-11-10T23:04:05Z",
        "2009-11-10T23:04:05.123456789Z",
        "Tue Nov 10 11:04:05.123 PM 2009 UTC",
        "11:04PM",
        "Tue, 10 Nov 2009 18:04:05 -0500",
        "10 Nov 09 18:04 EST",
        "2009-11-10 18:04:05.123456789 -0500 EST",
        "314 314",
        "at 2009-11-10",
    ]


async def test_locations(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local ny, err = time.load_location("America/New_York")
        assert(ny, err)
        local t = time.date(2024, 7, 4, 12, 0, 0, 0, ny)
        local z = time.fixed_zone("Plus3", 3 * 3600)
        return {
          ny:string(), tostring(ny), t:format(time.RFC3339), t:utc():format(time.RFC3339),
          t:location():string(), t:in_local():location():string(),
          t:in_location(z):format("15:04 MST"), z:string(),
          time.load_location("UTC") == time.utc, time.load_location("Local") == time.localtz,
          t:utc():location() == time.utc,
        }
        """,
    )
    assert value == [
        "America/New_York",
        "America/New_York",
        "2024-07-04T12:00:00-04:00",
        "2024-07-04T16:00:00Z",
        "America/New_York",
        "Local",
        "19:00 Plus3",
        "Plus3",
        True,
        True,
        True,
    ]


async def test_load_location_errors(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local a, e1 = time.load_location("")
        local b, e2 = time.load_location("Nowhere/Atlantis")
        local c, e3 = time.load_location(42)
        return {a == nil, e1:kind(), e1:retryable(), b == nil, e2:kind(), e2:retryable(),
                c == nil, e3:kind()}
        """,
    )
    assert value == [True, "Invalid", False, True, "NotFound", False, True, "Invalid"]


async def test_round_and_truncate(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t = time.date(2024, 1, 1, 10, 29, 31, 0, time.utc)
        local hour, minute = time.parse_duration("1h"), time.parse_duration("1m")
        local ok, err = pcall(t.round, t, time.HOUR)       -- numbers are refused
        local ok2, err2 = pcall(t.truncate, t, "1h")
        return {t:round(hour):format(time.TIME_ONLY), t:truncate(hour):format(time.TIME_ONLY),
                t:round(minute):format(time.TIME_ONLY), t:truncate(minute):format(time.TIME_ONLY),
                ok, err:kind(), ok2, err2:kind()}
        """,
    )
    assert value == [
        "10:00:00",
        "10:00:00",
        "10:30:00",
        "10:29:00",
        False,
        "Invalid",
        False,
        "Invalid",
    ]


async def test_method_argument_errors_raise(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t = time.now()
        local out = {}
        for _, call in ipairs({
          function() return t:add("soon") end,
          function() return t:sub(5) end,
          function() return t:before("x") end,
          function() return t:in_location("UTC") end,
          function() return t:format(nil) end,
          function() return t:add_date("a", 0, 0) end,
        }) do
          local ok, err = pcall(call)
          out[#out + 1] = (not ok) and errors.is(err, errors.INVALID) and not err:retryable()
        end
        return out
        """,
    )
    assert value == [True] * 6


# -- parsing ---------------------------------------------------------------------------------


async def test_parse(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t, err = time.parse(time.RFC3339NANO, "2024-05-06T07:08:09.123456789+02:00")
        assert(t, err)
        local again = time.parse(time.RFC3339NANO, t:format(time.RFC3339NANO))
        local d = time.parse(time.DATE_TIME, "2024-05-06 07:08:09")
        local z = time.fixed_zone("Z5", 5 * 3600)
        local inloc = time.parse(time.DATE_TIME, "2024-05-06 07:08:09", z)
        local k = time.parse(time.KITCHEN, "3:04PM")
        return {t:unix_nano(), t:nanosecond(), again:equal(t), again:unix_nano(),
                d:location():string(), d:format(time.RFC3339),
                inloc:format(time.RFC3339), k:hour(), k:year()}
        """,
    )
    expected = gotime.parse(gotime.LAYOUTS["RFC3339"], "2024-05-06T05:08:09Z").unix_ns
    assert value == [
        expected + 123456789,
        123456789,
        True,
        expected + 123456789,
        "UTC",
        "2024-05-06T07:08:09Z",
        "2024-05-06T07:08:09+05:00",
        15,
        0,
    ]


async def test_parse_errors(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local a, e1 = time.parse(time.RFC3339, "not a time")
        local b, e2 = time.parse(time.DATE_ONLY, "2024-02-30")
        local c, e3 = time.parse(nil, "x")
        return {a == nil, e1:kind(), e1:retryable(), e1:message(), b == nil, e2:message(),
                c == nil, e3:kind()}
        """,
    )
    assert value == [
        True,
        "Invalid",
        False,
        'parsing time "not a time" as "2006-01-02T15:04:05Z07:00": '
        'cannot parse "not a time" as "2006"',
        True,
        'parsing time "2024-02-30": day out of range',
        True,
        "Invalid",
    ]


# -- durations --------------------------------------------------------------------------------


async def test_durations(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local d = time.parse_duration("1h30m45s500ms")
        local n = time.parse_duration(1500)               -- a number is nanoseconds
        local f = time.parse_duration(2.9)                -- truncated toward zero
        local neg = time.parse_duration(-2.9)
        local same = time.parse_duration(d)               -- a Duration is accepted
        local micro = time.parse_duration("1.5µs")
        return {
          tostring(d), d:hours(), math.type(d:hours()), d:minutes(), d:seconds(),
          d:milliseconds(), math.type(d:milliseconds()),
          d:microseconds(), math.type(d:microseconds()),
          d:nanoseconds(), math.type(d:nanoseconds()),
          tostring(n), tostring(f), tostring(neg), same == d, tostring(micro),
          tostring(time.parse_duration("0")), tostring(time.parse_duration(500 * time.MILLISECOND)),
          time.parse_duration("-1500us"):milliseconds(),
          string.format("%d ms", d:milliseconds()),
          time.parse_duration("1s") < time.parse_duration("2s"),
          time.parse_duration("2s") <= time.parse_duration("2000ms"),
          time.parse_duration("1h"):hours(), math.type(time.parse_duration("1h"):hours()),
        }
        """,
    )
    assert value == [
        "1h30m45.5s",
        pytest.approx(1.5126388888888889),
        "float",
        pytest.approx(90.75833333333334),
        pytest.approx(5445.5),
        5445500,
        "integer",
        5445500000,
        "integer",
        5445500000000,
        "integer",
        "1.5µs",
        "2ns",
        "-2ns",
        True,
        "1.5µs",
        "0s",
        "500ms",
        -1,  # truncated toward zero, not floored
        "5445500 ms",
        True,
        True,
        1.0,
        "float",
    ]


async def test_parse_duration_errors(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local out = {}
        for _, v in ipairs({"", "1x", "abc", "1", true, 1/0}) do
          local d, err = time.parse_duration(v)
          out[#out + 1] = {d == nil, err:kind(), err:retryable(), err:message()}
        end
        local d, err = time.parse_duration({})
        out[#out + 1] = {d == nil, err:kind(), err:retryable(), ""}
        return out
        """,
    )
    assert [row[:3] for row in value] == [[True, "Invalid", False]] * 7
    assert value[0][3] == 'time: invalid duration ""'
    assert value[1][3] == 'time: unknown unit "x" in duration "1x"'
    assert value[3][3] == 'time: missing unit in duration "1"'


# -- sleeping ---------------------------------------------------------------------------------


async def test_sleep_suspends_only_the_calling_coroutine(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local log = {}
        local done = channel.new(1)
        coroutine.spawn(function()
          for i = 1, 3 do log[#log + 1] = "other" .. i; time.sleep(1 * time.MILLISECOND) end
          done:send(true)
        end)
        log[#log + 1] = "main sleeps"
        local r = {time.sleep("50ms")}
        log[#log + 1] = "main woke"
        done:receive()
        return {log = log, returned = #r}
        """,
    )
    log = value["log"]
    assert log[0] == "main sleeps" and log[-1] == "main woke"
    assert log.index("other3") < log.index("main woke")
    assert value["returned"] == 0  # sleep returns nothing


async def test_sleep_waits_at_least_the_duration(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local start = time.now()
        time.sleep(15 * time.MILLISECOND)
        local a = time.now():sub(start):milliseconds()
        start = time.now()
        time.sleep(time.parse_duration("10ms"))
        local b = time.now():sub(start):milliseconds()
        return {a, b}
        """,
    )
    assert value[0] >= 14 and value[1] >= 9


async def test_sleep_zero_yields_once(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local log = {}
        coroutine.spawn(function() log[#log + 1] = "other" end)
        time.sleep(0)
        log[#log + 1] = "main"
        time.sleep(-5)
        time.sleep(0.5)        -- fractional ns: zero-length, still fine
        log[#log + 1] = "main again"
        return log
        """,
    )
    assert value == ["other", "main", "main again"]


async def test_sleep_invalid_duration_returns_error(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local r, err = time.sleep("forever")
        local r2, err2 = time.sleep({})
        return {r == nil, err:kind(), err:retryable(), r2 == nil, err2:kind()}
        """,
    )
    assert value == [True, "Invalid", False, True, "Invalid"]


async def test_sleep_inside_pcall_and_user_coroutine(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local ok = pcall(time.sleep, "1ms")
        local co = coroutine.wrap(function()
          time.sleep("1ms")
          coroutine.yield("user yield")
          return "finished"
        end)
        return {ok, co(), co()}
        """,
    )
    assert value == [True, "user yield", "finished"]


# -- timers -----------------------------------------------------------------------------------


async def test_short_timer_fires_before_long_timer(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local long = time.timer("40ms")
        local short = time.timer("5ms")
        local r = channel.select{long:channel():case_receive(), short:channel():case_receive()}
        local which = r.channel == short:channel() and "short" or "long"
        local v = long:channel():receive()
        return {which, r.ok, type(r.value), tostring(r.value) ~= nil, v > r.value}
        """,
    )
    assert value == ["short", True, "userdata", True, True]


async def test_timer_delivers_time_and_channel_identity(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local before = time.now()
        local t = time.timer(3 * time.MILLISECOND)
        local ch = t:channel()
        local v, ok = ch:receive()
        return {rawequal(ch, t:channel()), rawequal(ch, t:response()), ok,
                v:after(before) or v:equal(before), v:location():string(),
                #ch, t:stop(), tostring(t):sub(1, 6)}
        """,
    )
    assert value == [True, True, True, True, "Local", 0, False, "timer:"]


async def test_timer_stop_prevents_firing(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t = time.timer("5ms")
        local first, second = t:stop(), t:stop()
        local r = channel.select{t:channel():case_receive(), time.after("25ms"):case_receive()}
        return {first, second, r.channel == t:channel(), #t:channel()}
        """,
    )
    assert value == [True, False, False, 0]


async def test_timer_stop_after_firing_keeps_the_value(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t = time.timer("2ms")
        time.sleep("15ms")
        local stopped = t:stop()          -- already fired: false, the value stays
        local n = #t:channel()
        local v, ok = t:channel():receive()
        return {stopped, n, ok, type(v)}
        """,
    )
    assert value == [False, 1, True, "userdata"]


async def test_timer_reset(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local out = {}
        -- reset of a pending timer: true, and it fires after the new duration
        local t = time.timer("1h")
        local start = time.now()
        out[#out + 1] = t:reset("5ms")
        t:channel():receive()
        out[#out + 1] = time.now():sub(start) < time.parse_duration("1s")
        -- reset after it fired (value received): false, and it fires again
        out[#out + 1] = t:reset(time.parse_duration("2ms"))
        local v, ok = t:channel():receive()
        out[#out + 1] = ok
        -- reset of a stopped timer: false; it fires again
        out[#out + 1] = t:stop()
        out[#out + 1] = t:reset(2 * time.MILLISECOND)
        out[#out + 1] = select(2, t:channel():receive())
        -- reset discards an expiry nobody received, then delivers only the new one
        out[#out + 1] = t:reset("2ms")
        time.sleep("10ms")
        out[#out + 1] = #t:channel()
        out[#out + 1] = t:reset("30ms")
        out[#out + 1] = #t:channel()
        -- reset to a non-positive duration fires at once
        out[#out + 1] = t:reset(0)
        out[#out + 1] = select(2, t:channel():receive())
        -- an invalid duration raises
        local okr, err = pcall(t.reset, t, "bogus")
        out[#out + 1] = (not okr) and err:kind()
        return out
        """,
    )
    assert value == [
        True,
        True,
        False,
        True,
        False,
        False,
        True,
        False,
        1,
        False,
        0,
        True,
        True,
        "Invalid",
    ]


async def test_after_with_select_timeout(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local work = channel.new()
        local timeout = time.after("5ms")
        local r = channel.select{work:case_receive(), timeout:case_receive()}
        local timed_out = r.channel == timeout
        -- a result that arrives before the timeout wins
        local jobs = channel.new(1)
        coroutine.spawn(function() time.sleep("1ms"); jobs:send("job") end)
        local r2 = channel.select{jobs:case_receive(), time.after("200ms"):case_receive()}
        return {timed_out, r.ok, type(r.value), r2.value}
        """,
    )
    assert value == [True, True, "userdata", "job"]


async def test_after_delivers_once_and_never_closes(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local ch = time.after(2 * time.MILLISECOND)
        time.sleep("10ms")
        local n = #ch
        local v, ok = ch:receive()
        local r = channel.select{ch:case_receive(), default = true}
        return {n, ok, type(v), r.default}
        """,
    )
    assert value == [1, True, "userdata", True]


async def test_non_positive_durations_are_invalid(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local out = {}
        for _, f in ipairs({time.after, time.timer, time.ticker}) do
          for _, d in ipairs({0, -1, "-5ms", "0s", "bad", 0.5}) do
            local v, err = f(d)
            out[#out + 1] = v == nil and errors.is(err, errors.INVALID) and not err:retryable()
          end
        end
        return out
        """,
    )
    assert value == [True] * 18


async def test_ticker_fires_then_stops(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local ticker = time.ticker("3ms")
        local ch = ticker:channel()
        local ticks = {}
        for i = 1, 4 do
          local v, ok = ch:receive()
          ticks[i] = v
        end
        local increasing = ticks[1] < ticks[2] and ticks[2] < ticks[3] and ticks[3] < ticks[4]
        local stopped, again = ticker:stop(), ticker:stop()
        -- drain a tick that may have been buffered before the stop, then nothing more comes
        channel.select{ch:case_receive(), default = true}
        local r = channel.select{ch:case_receive(), time.after("20ms"):case_receive()}
        return {increasing, stopped, again, r.channel == ch, rawequal(ch, ticker:response()),
                ticks[1]:sub(ticks[4]) < time.parse_duration("0s")}
        """,
    )
    assert value == [True, True, False, False, True, True]


async def test_ticker_drops_ticks_while_full(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local ticker = time.ticker("2ms")
        time.sleep("25ms")
        local n = #ticker:channel()
        ticker:channel():receive()
        ticker:stop()
        return n
        """,
    )
    assert value == 1


async def test_timer_and_ticker_cannot_be_sent(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        -- refused either way: `nil, err` (or a raised error) of kind Invalid
        local function refused(v)
          local ok, r, err = pcall(process.send, process.pid(), "t", v)
          if not ok then return errors.is(r, errors.INVALID) end
          return r == nil and errors.is(err, errors.INVALID)
        end
        local t, tk = time.timer("1h"), time.ticker("1h")
        local out = {refused(t), refused(tk), refused(time.after("1h")), refused({t})}
        t:stop(); tk:stop()
        return out
        """,
    )
    assert value == [True, True, True, True]


# -- values across processes -----------------------------------------------------------------


async def test_values_sent_to_self_keep_their_kind(tmp_path: Path) -> None:
    value = await run(
        tmp_path,
        """
        local t = time.date(2024, 5, 6, 7, 8, 9, 10, time.fixed_zone("F", 7200))
        local d = time.parse_duration("1m1.5s")
        process.send(process.pid(), "values", {t = t, d = d, loc = time.utc, list = {t, d}})
        local m = process.inbox():receive()
        local v = m:payload():data()
        return {v.t:format(time.RFC3339NANO), v.t:location():string(), v.t:equal(t),
                v.t == t, tostring(v.d), v.d:milliseconds(), v.d == d, v.loc:string(),
                v.list[1]:unix_nano() == t:unix_nano(), tostring(v.list[2])}
        """,
    )
    assert value == [
        "2024-05-06T07:08:09.00000001+02:00",
        "F",
        True,
        True,
        "1m1.5s",
        61500,
        True,
        "UTC",
        True,
        "1m1.5s",
    ]


async def test_values_cross_to_another_process(tmp_path: Path) -> None:
    echo = """
    local time = require("time")
    return {main = function()
      local m = process.inbox():receive()
      local v = m:payload():data()
      process.send(m:from(), "back", {
        t = v.t, d = v.d, loc = v.loc,
        seen = {v.t:format(time.RFC3339NANO), tostring(v.d), v.d:microseconds(),
                v.loc:string(), v.t:location():string()},
      })
    end}
    """
    value = await run(
        tmp_path,
        f"""
        local pid = assert(process.spawn("test:echo", "{HOST}"))
        local ny = assert(time.load_location("America/New_York"))
        local t = time.date(2024, 1, 2, 3, 4, 5, 6, ny)
        process.send(pid, "go", {{t = t, d = time.parse_duration("250ms"), loc = ny}})
        local m = process.inbox():receive()
        local v = m:payload():data()
        return {{seen = v.seen, same = v.t == t and v.d == time.parse_duration("250ms"),
                 kind = v.d:milliseconds(), loc = v.loc:string(),
                 t = v.t, d = v.d, zone = v.t:format("MST")}}
        """,
        files={"echo.lua": echo},
        entries=[
            {
                "name": "echo",
                "kind": "process.lua",
                "source": "file://echo.lua",
                "method": "main",
                "modules": ["time"],
            }
        ],
    )
    assert value["seen"] == [
        "2024-01-02T03:04:05.000000006-05:00",
        "250ms",
        250000,
        "America/New_York",
        "America/New_York",
    ]
    assert value["same"] is True
    assert value["kind"] == 250
    assert value["loc"] == "America/New_York"
    assert value["zone"] == "EST"
    # The exit value carries them to Python as the same kinds.
    assert isinstance(value["t"], GoTime) and value["t"].loc.name == "America/New_York"
    assert value["d"] == Duration(250_000_000)


async def test_values_as_spawn_arguments_and_results(tmp_path: Path) -> None:
    t = gotime.date(2024, 1, 1, 0, 0, 0, 0, UTC)
    value = await run(
        tmp_path,
        """
        local t, d = ...
        return {t:add(d), d:seconds(), t:year()}
        """,
        t,
        Duration(2 * gotime.SECOND),
    )
    assert value == [t.add(2 * gotime.SECOND), 2.0, 2024]


# -- Python side: wire form, timer states ----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        gotime.date(2024, 5, 6, 7, 8, 9, 10, UTC),
        gotime.date(1, 1, 1, 0, 0, 0, 0, UTC),
        gotime.date(-500, 1, 1, 0, 0, 0, 1, gotime.fixed_zone("X", -3600)),
        gotime.from_unix(1_700_000_000, 5),
        gotime.now().in_location(gotime.load_location("Europe/Paris")),
        Duration(0),
        Duration(-(1 << 63)),
        Duration((1 << 63) - 1),
        UTC,
        Local,
        gotime.fixed_zone("EST", -5 * 3600),
        gotime.load_location("Asia/Tokyo"),
    ],
)
async def test_wire_round_trip(value: Any) -> None:
    copy = copy_value({"v": [value]})["v"][0]
    assert copy == value and type(copy) is type(value)
    assert unpack_value(pack_value(value)) == value
    if isinstance(value, GoTime):
        assert copy.loc == value.loc


async def test_local_travels_by_name() -> None:
    assert pack_location(Local) == ["Local", 0, "Local"]
    assert copy_value(Local) is Local
    assert copy_value(UTC) is UTC


class FakeSource:
    """A time source driven by hand: the hook a workflow host would replace."""

    def __init__(self) -> None:
        self.clock = 0
        self.timers: dict[int, tuple[int, Any]] = {}
        self.next = 0

    def now(self) -> GoTime:
        return GoTime(self.clock, UTC)

    def monotonic_ns(self) -> int:
        return self.clock

    def call_at(self, deadline: int, action: Any) -> int:
        self.next += 1
        self.timers[self.next] = (deadline, action)
        return self.next

    def cancel(self, handle: int) -> None:
        self.timers.pop(handle, None)

    def advance(self, ns: int) -> None:
        self.clock += ns
        while True:
            due = sorted((d, h) for h, (d, _) in self.timers.items() if d <= self.clock)
            if not due:
                return
            _, handle = due[0]
            _, action = self.timers.pop(handle)
            action()


class FakeProcess:
    alive = True


@pytest.fixture
def channel_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Channels live in a host's Lua state, the one whose code runs now: these tests run
    no process, so they name a bare host's state as the running one."""
    from actors.registry import Registry
    from lua_bindings.app import LuaApp
    from lua_bindings.channels import KERNEL
    from lua_bindings.host import LuaHost

    host = LuaHost("time-tests", LuaApp(Registry()))
    monkeypatch.setattr(KERNEL, "state", host.state)


@pytest.mark.usefixtures("channel_owner")
async def test_ticker_skips_missed_ticks_and_stops_with_its_process() -> None:
    source, process = FakeSource(), FakeProcess()
    ticker = TickerState(source, process, 10)  # type: ignore[arg-type]
    source.advance(10)
    assert len(ticker.channel) == 1
    ticker.channel.clear()
    source.advance(35)  # ticks due at 20, 30, 40: one delivered, late ones skipped
    assert len(ticker.channel) == 1
    assert ticker.deadline == 50
    process.alive = False
    ticker.channel.clear()
    source.advance(10)
    assert len(ticker.channel) == 0 and not source.timers  # no longer rescheduled


@pytest.mark.usefixtures("channel_owner")
async def test_timer_of_a_dead_process_delivers_nothing() -> None:
    source, process = FakeSource(), FakeProcess()
    timer = TimerState(source, process)  # type: ignore[arg-type]
    timer.arm(5)
    process.alive = False
    source.advance(5)
    assert len(timer.channel) == 0 and timer.handle is None
    assert not timer.stop()


async def test_location_kind_is_registered() -> None:
    from lua_bindings.convert import SENDABLE, kind_of

    assert kind_of(UTC) == b"location" and Location in SENDABLE
    assert kind_of(gotime.now()) == b"time" and GoTime in SENDABLE
    assert kind_of(Duration(1)) == b"duration" and Duration in SENDABLE


async def test_time_methods_load_with_the_first_time_value(tmp_path: Path) -> None:
    """A host's state loads the time module lazily, yet the `at` of an event works in a
    process that never required it (the module loads when such a value is first used)."""
    source = """
    return {main = function()
      local events = process.events()
      process.spawn_monitored("test:quit", "test:processes")
      local event = events:receive()
      return {unix = event.at:unix() > 0, kind = event.kind}
    end}
    """
    quit_entry = {"name": "quit", "kind": "process.lua", "source": "file://quit.lua"}
    quit_entry["method"] = "main"
    event = await run_lua(
        tmp_path,
        source,
        modules=[],
        files={"quit.lua": "return {main = function() return 1 end}"},
        entries=[quit_entry],
    )
    assert event.error is None, event.error
    assert event.value == {"unix": True, "kind": "pid.exit"}
