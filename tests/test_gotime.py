"""Go `time` semantics of `corelib.gotime`.

Expected values come from Go's documentation examples and from the tables in Go's own tests
(`time/time_test.go`, `time/format_test.go`). Go's tests run with Local forced to
America/Los_Angeles; here that zone is passed explicitly (`parse(..., LA)` is Go's
`ParseInLocation`), so results do not depend on the machine's zone.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.errors import INVALID, NOT_FOUND, ActorError
from corelib import gotime as g
from corelib.gotime import (
    HOUR,
    LAYOUTS,
    MICROSECOND,
    MILLISECOND,
    MINUTE,
    NANOSECOND,
    SECOND,
    UTC,
    GoTime,
    Local,
)

LA = g.load_location("America/Los_Angeles")
PST = g.fixed_zone("PST", -8 * 3600)
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def raises_kind(kind: str, fn, *args) -> ActorError:
    """Call `fn(*args)`, expecting an ActorError of `kind` that is not retryable."""
    with pytest.raises(ActorError) as info:
        fn(*args)
    assert info.value.kind == kind
    assert info.value.error.retryable is False
    return info.value


# --------------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------------


def test_duration_constants():
    assert (NANOSECOND, MICROSECOND, MILLISECOND, SECOND) == (1, 1000, 10**6, 10**9)
    assert MINUTE == 60 * SECOND
    assert HOUR == 3600 * SECOND


# Go's durationTests plus the Duration.String doc examples.
@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1100, "1.1µs"),
        (2200 * MICROSECOND, "2.2ms"),
        (3300 * MILLISECOND, "3.3s"),
        (4 * MINUTE + 5 * SECOND, "4m5s"),
        (4 * MINUTE + 5001 * MILLISECOND, "4m5.001s"),
        (5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND, "5h6m7.001s"),
        (8 * MINUTE + 1, "8m0.000000001s"),
        (INT64_MAX, "2562047h47m16.854775807s"),
        (INT64_MIN, "-2562047h47m16.854775808s"),
        (-1, "-1ns"),
        (-1100, "-1.1µs"),
        (-(5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND), "-5h6m7.001s"),
        (HOUR + 2 * MINUTE + 300 * MILLISECOND, "1h2m0.3s"),
        (300 * MILLISECOND, "300ms"),
        (10 * HOUR, "10h0m0s"),
        (HOUR + 10 * MINUTE + 10 * SECOND, "1h10m10s"),
        (MICROSECOND, "1µs"),
        (HOUR + 30 * MINUTE + 45 * SECOND + 500 * MILLISECOND, "1h30m45.5s"),
        (500 * MILLISECOND, "500ms"),
        (1500, "1.5µs"),
    ],
)
def test_format_duration(ns, text):
    assert g.format_duration(ns) == text


# Go's parseDurationTests.
@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("5s", 5 * SECOND),
        ("30s", 30 * SECOND),
        ("1478s", 1478 * SECOND),
        ("-5s", -5 * SECOND),
        ("+5s", 5 * SECOND),
        ("-0", 0),
        ("+0", 0),
        ("5.0s", 5 * SECOND),
        ("5.6s", 5 * SECOND + 600 * MILLISECOND),
        ("5.s", 5 * SECOND),
        (".5s", 500 * MILLISECOND),
        ("1.0s", SECOND),
        ("1.00s", SECOND),
        ("1.004s", SECOND + 4 * MILLISECOND),
        ("1.0040s", SECOND + 4 * MILLISECOND),
        ("100.00100s", 100 * SECOND + MILLISECOND),
        ("10ns", 10),
        ("11us", 11 * MICROSECOND),
        ("12\u00b5s", 12 * MICROSECOND),
        ("12\u03bcs", 12 * MICROSECOND),
        ("13ms", 13 * MILLISECOND),
        ("14s", 14 * SECOND),
        ("15m", 15 * MINUTE),
        ("16h", 16 * HOUR),
        ("3h30m", 3 * HOUR + 30 * MINUTE),
        ("10.5s4m", 4 * MINUTE + 10 * SECOND + 500 * MILLISECOND),
        ("-2m3.4s", -(2 * MINUTE + 3 * SECOND + 400 * MILLISECOND)),
        ("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5000 + 6),
        ("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLISECOND),
        ("52763797000ns", 52763797000),
        ("0.3333333333333333333h", 20 * MINUTE),
        ("9007199254740993ns", (1 << 53) + 1),
        ("9223372036854775807ns", INT64_MAX),
        ("9223372036854775.807us", INT64_MAX),
        ("9223372036s854ms775us807ns", INT64_MAX),
        ("-9223372036854775808ns", INT64_MIN),
        ("-9223372036854775.808us", INT64_MIN),
        ("-9223372036s854ms775us808ns", INT64_MIN),
        ("-2562047h47m16.854775808s", INT64_MIN),
        ("0.100000000000000000000h", 6 * MINUTE),
        ("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372539827),
        ("1.5h", 90 * MINUTE),
        ("1h30m45s500ms", 5445500 * MILLISECOND),
    ],
)
def test_parse_duration(text, ns):
    assert g.parse_duration(text) == ns


@pytest.mark.parametrize(
    "text",
    [
        "",
        "3",
        "-",
        "s",
        ".",
        "-.",
        ".s",
        "+.s",
        "1d",
        "\x85\x85",
        "\uffff",
        "hello \uffff world",
        "\ufffd",
        "00",
        "1h 30m",
        "9223372036854775810ns",
        "9223372036854775808ns",
        "-9223372036854775809ns",
        "9223372036854776us",
        "3000000h",
        "9223372036854775.808us",
        "9223372036854ms775us808ns",
    ],
)
def test_parse_duration_rejects(text):
    raises_kind(INVALID, g.parse_duration, text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("3", 'time: missing unit in duration "3"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ('"1x"', 'time: invalid duration "\\"1x\\""'),
        ("\ufffd", 'time: invalid duration "\\xef\\xbf\\xbd"'),
        ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
    ],
)
def test_parse_duration_messages(text, message):
    assert raises_kind(INVALID, g.parse_duration, text).error.message == message


def test_parse_duration_numbers_are_nanoseconds():
    assert g.parse_duration(10 * MILLISECOND) == 10_000_000
    assert g.parse_duration(1e9) == SECOND
    # Our choice (spec §6): fractional numbers truncate toward zero.
    assert g.parse_duration(0.01) == 0
    assert g.parse_duration(1.9) == 1
    assert g.parse_duration(-1.9) == -1
    assert g.parse_duration(INT64_MIN) == INT64_MIN


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e30, 1 << 63, True, None, [1]])
def test_parse_duration_rejects_numbers(value):
    raises_kind(INVALID, g.parse_duration, value)


def test_duration_accessors():
    d = g.parse_duration("1h30m45s500ms")
    assert g.duration_hours(d) == pytest.approx(1.5126, abs=1e-4)
    assert g.duration_milliseconds(d) == 5445500
    assert isinstance(g.duration_milliseconds(d), int)
    assert g.duration_hours(g.parse_duration("1h30m")) == 1.5
    assert g.duration_hours(g.parse_duration("4h30m")) == 4.5
    assert g.duration_minutes(g.parse_duration("1h15m30.918273645s")) == pytest.approx(75.5153)
    assert g.duration_seconds(g.parse_duration("1m30s")) == 90.0
    assert g.duration_seconds(g.parse_duration("1h10m10s")) == 4210.0
    assert g.duration_seconds(g.parse_duration("1us")) == 1e-6
    assert g.duration_microseconds(g.parse_duration("1s")) == 1_000_000
    # Truncated toward zero, not floored.
    assert g.duration_milliseconds(-1500 * MICROSECOND) == -1
    assert g.duration_microseconds(-1999) == -1


@given(st.integers(INT64_MIN, INT64_MAX))
def test_duration_round_trip(ns):
    assert g.parse_duration(g.format_duration(ns)) == ns


# --------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------


def test_load_location():
    assert g.load_location("UTC") is UTC
    assert g.load_location("Local") is Local
    paris = g.load_location("Europe/Paris")
    assert str(paris) == "Europe/Paris"
    assert paris == g.load_location("Europe/Paris")
    assert str(UTC) == "UTC"
    assert str(Local) == "Local"


def test_load_location_errors():
    raises_kind(INVALID, g.load_location, "")
    raises_kind(INVALID, g.load_location, "../etc/passwd")
    raises_kind(INVALID, g.load_location, "/etc/localtime")
    err = raises_kind(NOT_FOUND, g.load_location, "Mars/Olympus_Mons")
    assert err.error.message == "unknown time zone Mars/Olympus_Mons"
    raises_kind(NOT_FOUND, g.load_location, "America")  # a directory, not a zone


def test_fixed_zone():
    loc = g.fixed_zone("XYZ", 5 * 3600 + 30 * 60)
    assert str(loc) == "XYZ"
    t = g.date(2020, 1, 2, 3, 4, 5, 0, loc)
    assert str(t) == "2020-01-02 03:04:05 +0530 XYZ"
    assert t.zone() == ("XYZ", 19800)
    assert t.utc().clock() == (21, 34, 5)


def test_unnamed_fixed_zone_prints_numeric_offset():
    t = g.date(2006, 1, 2, 15, 4, 5, 0, g.fixed_zone("", 7 * 3600))
    assert str(t) == "2006-01-02 15:04:05 +0700 +0700"


def test_local_zone_follows_tz_like_go():
    tokyo = 9 * 3600
    noon = 1_700_000_000
    for env in ({"TZ": "Asia/Tokyo"}, {"TZ": ":Asia/Tokyo"}):
        assert g.Location("Local", zone=g._load_local_zone(env)).lookup(noon)[1] == tokyo
    by_path = g._load_local_zone({"TZ": "/usr/share/zoneinfo/Asia/Tokyo"})
    assert g.Location("Local", zone=by_path).lookup(noon) == ("JST", tokyo)
    for env in ({"TZ": ""}, {"TZ": "UTC"}, {"TZ": "No/Such_Zone"}):
        assert g.Location("Local", zone=g._load_local_zone(env)).lookup(noon) == ("UTC", 0)


def test_iana_zone_abbreviations():
    ny = g.load_location("America/New_York")
    assert str(g.date(2021, 7, 1, 12, 0, 0, 0, ny)) == "2021-07-01 12:00:00 -0400 EDT"
    assert str(g.date(2021, 1, 1, 12, 0, 0, 0, ny)) == "2021-01-01 12:00:00 -0500 EST"
    # Before standard time, the tz database's local mean time (with seconds) applies.
    assert g.date(1850, 1, 1, 0, 0, 0, 0, ny).zone() == ("LMT", -(4 * 3600 + 56 * 60 + 2))


# --------------------------------------------------------------------------------------------
# Constructors and calendar fields
# --------------------------------------------------------------------------------------------


# Go's dateTests (Local = America/Los_Angeles): normalisation and DST edges.
@pytest.mark.parametrize(
    ("fields", "unix"),
    [
        ((2011, 11, 6, 1, 0, 0, 0), 1320566400),  # 1:00:00 PDT
        ((2011, 11, 6, 1, 59, 59, 0), 1320569999),  # 1:59:59 PDT
        ((2011, 11, 6, 2, 0, 0, 0), 1320573600),  # 2:00:00 PST
        ((2011, 3, 13, 1, 0, 0, 0), 1300006800),  # 1:00:00 PST
        ((2011, 3, 13, 1, 59, 59, 0), 1300010399),  # 1:59:59 PST
        ((2011, 3, 13, 3, 0, 0, 0), 1300010400),  # 3:00:00 PDT
        ((2011, 3, 13, 2, 30, 0, 0), 1300008600),  # 2:30:00 PDT ≡ 1:30 PST
        ((2012, 12, 24, 0, 0, 0, 0), 1356336000),  # leap year
        ((2011, 11, 18, 7, 56, 35, 0), 1321631795),
        ((2011, 11, 19, -17, 56, 35, 0), 1321631795),
        ((2011, 11, 17, 31, 56, 35, 0), 1321631795),
        ((2011, 11, 18, 6, 116, 35, 0), 1321631795),
        ((2011, 10, 49, 7, 56, 35, 0), 1321631795),
        ((2011, 11, 18, 7, 55, 95, 0), 1321631795),
        ((2011, 11, 18, 7, 56, 34, 10**9), 1321631795),
        ((2011, 12, -12, 7, 56, 35, 0), 1321631795),
        ((2012, 1, -43, 7, 56, 35, 0), 1321631795),
        ((2012, 1 - 2, 18, 7, 56, 35, 0), 1321631795),
        ((2010, 12 + 11, 18, 7, 56, 35, 0), 1321631795),
        ((1970, 1, 15297, 7, 56, 35, 0), 1321631795),
        ((1970, 1, -25508, 0, 0, 0, 0), -2203948800),
    ],
)
def test_date_normalises_like_go(fields, unix):
    t = g.date(*fields, LA)
    assert t.unix() == unix
    assert t.loc is LA


def test_date_normalisation_examples():
    assert g.date(2011, 10, 32, 0, 0, 0, 0, UTC).date() == (2011, 11, 1)
    assert g.date(2020, 13, 1, 0, 0, 0, 0, UTC).date() == (2021, 1, 1)
    assert g.date(2021, 2, 29, 0, 0, 0, 0, UTC).date() == (2021, 3, 1)
    assert g.date(2020, 2, 29, 0, 0, 0, 0, UTC).date() == (2020, 2, 29)
    t = g.date(2020, 1, 1, -1, 0, 0, -1, UTC)
    assert str(t) == "2019-12-31 22:59:59.999999999 +0000 UTC"
    t = g.date(0, 0, 0, 12, 15, 30, 918273645, UTC)
    assert str(t) == "-0001-11-30 12:15:30.918273645 +0000 UTC"


def test_date_defaults_to_local():
    assert g.date(2020, 1, 1).loc is Local
    assert g.from_unix(0).loc is Local


def test_from_unix():
    t = g.from_unix(0, 0, UTC)
    assert str(t) == "1970-01-01 00:00:00 +0000 UTC"
    assert g.from_unix(1, -1, UTC).unix_nano() == SECOND - 1
    assert g.from_unix(0, 3 * SECOND + 5, UTC).unix() == 3
    before_epoch = g.from_unix(0, -1, UTC)
    assert before_epoch.unix() == -1
    assert before_epoch.nanosecond() == 999_999_999
    assert str(before_epoch) == "1969-12-31 23:59:59.999999999 +0000 UTC"
    assert g.from_unix(1_234_567_890, 0, UTC).format(LAYOUTS["RFC3339"]) == ("2009-02-13T23:31:30Z")


def test_instants_must_be_integers():
    with pytest.raises(TypeError):
        GoTime(1.5, UTC)
    with pytest.raises(TypeError):
        g.from_unix(1.5, 0, UTC)


def test_now():
    before = time.time_ns()
    t = g.now()
    after = time.time_ns()
    assert before <= t.unix_nano() <= after
    assert t.loc is Local


def test_calendar_fields():
    t = g.date(2009, 11, 10, 23, 4, 5, 6, UTC)
    assert t.date() == (2009, 11, 10)
    assert t.clock() == (23, 4, 5)
    assert (t.year(), t.month(), t.day()) == (2009, 11, 10)
    assert (t.hour(), t.minute(), t.second(), t.nanosecond()) == (23, 4, 5, 6)
    assert t.weekday() == 2  # Tuesday
    assert t.year_day() == 314
    assert t.location() is UTC
    assert t.in_location(LA).clock() == (15, 4, 5)
    assert t.in_location(g.load_location("Asia/Tokyo")).date() == (2009, 11, 11)


@pytest.mark.parametrize(
    ("ymd", "weekday", "yday"),
    [
        ((1970, 1, 1), 4, 1),  # Thursday
        ((1, 1, 1), 1, 1),  # Go's zero time is a Monday
        ((2000, 2, 29), 2, 60),
        ((2023, 12, 31), 0, 365),
        ((2024, 12, 31), 2, 366),
        ((1900, 3, 1), 4, 60),  # 1900 is not a leap year
        ((9999, 12, 31), 5, 365),
    ],
)
def test_weekday_and_year_day(ymd, weekday, yday):
    t = g.date(*ymd, 0, 0, 0, 0, UTC)
    assert t.weekday() == weekday
    assert t.year_day() == yday


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_calendar_matches_python_datetime(dt):
    t = g.date(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond * 1000, UTC)
    delta = dt - datetime(1970, 1, 1)
    assert (
        t.unix_nano() == (delta.days * 86400 + delta.seconds) * SECOND + delta.microseconds * 1000
    )
    assert t.date() == (dt.year, dt.month, dt.day)
    assert t.clock() == (dt.hour, dt.minute, dt.second)
    assert t.weekday() == dt.isoweekday() % 7
    assert t.year_day() == dt.timetuple().tm_yday


def test_is_zero():
    assert g.ZERO_TIME.is_zero()
    assert str(g.ZERO_TIME) == "0001-01-01 00:00:00 +0000 UTC"
    assert g.date(1, 1, 1, 0, 0, 0, 0, UTC).is_zero()
    assert g.ZERO_TIME.in_location(LA).is_zero()  # an instant, whatever the location
    assert not g.from_unix(0, 0, UTC).is_zero()
    assert not g.ZERO_TIME.add(1).is_zero()


def test_years_outside_zoneinfo_range():
    far = g.date(12345, 6, 7, 8, 9, 10, 0, UTC)
    assert far.date() == (12345, 6, 7)
    assert far.format(LAYOUTS["RFC3339"]) == "12345-06-07T08:09:10Z"
    ancient = g.date(-44, 3, 15, 0, 0, 0, 0, UTC)
    assert ancient.date() == (-44, 3, 15)
    assert ancient.format("2006 06") == "-0044 44"
    assert g.date(12345, 6, 7, 0, 0, 0, 0, LA).year() == 12345


# --------------------------------------------------------------------------------------------
# Arithmetic and comparison
# --------------------------------------------------------------------------------------------


def test_add_and_sub():
    t = g.date(2020, 1, 1, 0, 0, 0, 0, UTC)
    later = t.add(g.parse_duration("1h30m"))
    assert str(later) == "2020-01-01 01:30:00 +0000 UTC"
    assert later.sub(t) == 90 * MINUTE
    assert t.sub(later) == -90 * MINUTE
    assert t.add(-1).clock() == (23, 59, 59)
    assert later.loc is UTC


def test_sub_saturates_like_go():
    early = g.date(1, 1, 1, 0, 0, 0, 0, UTC)
    late = g.date(9999, 1, 1, 0, 0, 0, 0, UTC)
    assert late.sub(early) == INT64_MAX
    assert early.sub(late) == INT64_MIN


def test_before_after_equal_compare_instants():
    a = g.date(2020, 1, 1, 12, 0, 0, 0, UTC)
    b = a.in_location(LA)
    assert a.equal(b)
    assert a != b  # Go's == also compares the location
    assert not a.before(b) and not a.after(b)
    c = a.add(1)
    assert a.before(c) and c.after(a)
    assert not c.before(a) and not a.after(c)


# Go's ExampleTime_AddDate.
def test_add_date_go_example():
    start = g.date(2023, 3, 25, 12, 0, 0, 0, UTC)
    one_day = start.add_date(0, 0, 1)
    assert str(one_day) == "2023-03-26 12:00:00 +0000 UTC"
    assert str(start.add_date(0, 1, 0)) == "2023-04-25 12:00:00 +0000 UTC"
    assert str(start.add_date(1, 0, 0)) == "2024-03-25 12:00:00 +0000 UTC"
    zurich = g.load_location("Europe/Zurich")
    start_zurich = g.date(2023, 3, 25, 12, 0, 0, 0, zurich)
    one_day_zurich = start_zurich.add_date(0, 0, 1)
    assert str(one_day_zurich) == "2023-03-26 12:00:00 +0200 CEST"
    assert g.format_duration(one_day.sub(start)) == "24h0m0s"
    assert g.format_duration(one_day_zurich.sub(start_zurich)) == "23h0m0s"


def test_add_date_normalises():
    oct31 = g.date(2011, 10, 31, 10, 0, 0, 5, UTC)
    assert oct31.add_date(0, 1, 0).date() == (2011, 12, 1)  # "November 31" → December 1
    assert oct31.add_date(0, 1, 0).clock() == (10, 0, 0)
    assert oct31.add_date(0, 1, 0).nanosecond() == 5
    assert g.date(2020, 2, 29, 0, 0, 0, 0, UTC).add_date(1, 0, 0).date() == (2021, 3, 1)
    assert g.date(2020, 1, 31, 0, 0, 0, 0, UTC).add_date(0, -2, 0).date() == (2019, 12, 1)
    assert g.date(2020, 3, 1, 0, 0, 0, 0, UTC).add_date(0, 0, -1).date() == (2020, 2, 29)
    assert g.date(2020, 1, 1, 0, 0, 0, 0, UTC).add_date(0, 0, 366).date() == (2021, 1, 1)


# Go's ExampleTime_Round.
@pytest.mark.parametrize(
    ("d", "want"),
    [
        (NANOSECOND, "12:15:30.918273645"),
        (MICROSECOND, "12:15:30.918274"),
        (MILLISECOND, "12:15:30.918"),
        (SECOND, "12:15:31"),
        (2 * SECOND, "12:15:30"),
        (MINUTE, "12:16:00"),
        (10 * MINUTE, "12:20:00"),
        (HOUR, "12:00:00"),
    ],
)
def test_round_go_example(d, want):
    t = g.date(0, 0, 0, 12, 15, 30, 918273645, UTC)
    assert t.round(d).format("15:04:05.999999999") == want


# Go's ExampleTime_Truncate.
@pytest.mark.parametrize(
    ("d", "want"),
    [
        (NANOSECOND, "12:15:30.918273645"),
        (MICROSECOND, "12:15:30.918273"),
        (MILLISECOND, "12:15:30.918"),
        (SECOND, "12:15:30"),
        (2 * SECOND, "12:15:30"),
        (MINUTE, "12:15:00"),
        (10 * MINUTE, "12:10:00"),
    ],
)
def test_truncate_go_example(d, want):
    t = g.parse("2006 Jan 02 15:04:05", "2012 Dec 07 12:15:30.918273645")
    assert t.truncate(d).format("15:04:05.999999999") == want


def test_round_and_truncate_edges():
    t = g.date(2020, 5, 6, 7, 8, 9, 500_000_000, LA)
    assert t.round(0) is t and t.truncate(-SECOND) is t
    assert t.round(SECOND).second() == 10  # halfway rounds up
    assert t.truncate(SECOND).second() == 9
    assert t.round(SECOND).loc is LA
    # Days are measured from the zero time in UTC, not local midnight (as in Go).
    day = t.truncate(24 * HOUR)
    assert day.utc().clock() == (0, 0, 0)
    # Times before the zero time still round down (toward the past).
    before_zero = g.ZERO_TIME.add(-1)
    assert before_zero.truncate(SECOND).equal(g.ZERO_TIME.add(-SECOND))
    assert before_zero.round(SECOND).equal(g.ZERO_TIME)


@given(st.integers(-(10**20), 10**20), st.integers(1, 10**15))
def test_truncate_round_properties(ns, d):
    t = GoTime(ns, UTC)
    down = t.truncate(d)
    assert (down.unix_ns - g.ZERO_TIME.unix_ns) % d == 0
    assert 0 <= t.sub(down) < d
    nearest = t.round(d)
    assert (nearest.unix_ns - g.ZERO_TIME.unix_ns) % d == 0
    assert 2 * abs(nearest.unix_ns - ns) <= d


def test_location_conversions():
    t = g.date(2020, 6, 1, 12, 0, 0, 0, LA)
    assert t.utc().loc is UTC and t.utc().hour() == 19
    assert t.in_local().loc is Local
    assert t.in_local().equal(t)
    tokyo = g.load_location("Asia/Tokyo")
    assert str(t.in_location(tokyo)) == "2020-06-02 04:00:00 +0900 JST"


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def test_layout_constants():
    assert LAYOUTS == {
        "LAYOUT": "01/02 03:04:05PM '06 -0700",
        "ANSIC": "Mon Jan _2 15:04:05 2006",
        "UNIX_DATE": "Mon Jan _2 15:04:05 MST 2006",
        "RUBY_DATE": "Mon Jan 02 15:04:05 -0700 2006",
        "RFC822": "02 Jan 06 15:04 MST",
        "RFC822Z": "02 Jan 06 15:04 -0700",
        "RFC850": "Monday, 02-Jan-06 15:04:05 MST",
        "RFC1123": "Mon, 02 Jan 2006 15:04:05 MST",
        "RFC1123Z": "Mon, 02 Jan 2006 15:04:05 -0700",
        "RFC3339": "2006-01-02T15:04:05Z07:00",
        "RFC3339NANO": "2006-01-02T15:04:05.999999999Z07:00",
        "KITCHEN": "3:04PM",
        "STAMP": "Jan _2 15:04:05",
        "STAMP_MILLI": "Jan _2 15:04:05.000",
        "STAMP_MICRO": "Jan _2 15:04:05.000000",
        "STAMP_NANO": "Jan _2 15:04:05.000000000",
        "DATE_TIME": "2006-01-02 15:04:05",
        "DATE_ONLY": "2006-01-02",
        "TIME_ONLY": "15:04:05",
    }


# The Go Playground's time, `2009-11-10 23:00:00 UTC`, in every constant layout.
@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("ANSIC", "Tue Nov 10 23:00:00 2009"),
        ("UNIX_DATE", "Tue Nov 10 23:00:00 UTC 2009"),
        ("RUBY_DATE", "Tue Nov 10 23:00:00 +0000 2009"),
        ("RFC822", "10 Nov 09 23:00 UTC"),
        ("RFC822Z", "10 Nov 09 23:00 +0000"),
        ("RFC850", "Tuesday, 10-Nov-09 23:00:00 UTC"),
        ("RFC1123", "Tue, 10 Nov 2009 23:00:00 UTC"),
        ("RFC1123Z", "Tue, 10 Nov 2009 23:00:00 +0000"),
        ("RFC3339", "2009-11-10T23:00:00Z"),
        ("RFC3339NANO", "2009-11-10T23:00:00Z"),
        ("KITCHEN", "11:00PM"),
        ("STAMP", "Nov 10 23:00:00"),
        ("STAMP_MILLI", "Nov 10 23:00:00.000"),
        ("STAMP_MICRO", "Nov 10 23:00:00.000000"),
        ("STAMP_NANO", "Nov 10 23:00:00.000000000"),
        ("DATE_TIME", "2009-11-10 23:00:00"),
        ("DATE_ONLY", "2009-11-10"),
        ("TIME_ONLY", "23:00:00"),
        ("LAYOUT", "11/10 11:00:00PM '09 +0000"),
    ],
)
def test_format_playground_time(name, want):
    t = g.date(2009, 11, 10, 23, 0, 0, 0, UTC)
    assert t.format(LAYOUTS[name]) == want
    assert g.format(t, LAYOUTS[name]) == want


# Go's formatTests: Date(2009, February, 4, 21, 0, 57, 12345600, PST).
@pytest.mark.parametrize(
    ("layout", "want"),
    [
        (LAYOUTS["ANSIC"], "Wed Feb  4 21:00:57 2009"),
        (LAYOUTS["UNIX_DATE"], "Wed Feb  4 21:00:57 PST 2009"),
        (LAYOUTS["RUBY_DATE"], "Wed Feb 04 21:00:57 -0800 2009"),
        (LAYOUTS["RFC822"], "04 Feb 09 21:00 PST"),
        (LAYOUTS["RFC850"], "Wednesday, 04-Feb-09 21:00:57 PST"),
        (LAYOUTS["RFC1123"], "Wed, 04 Feb 2009 21:00:57 PST"),
        (LAYOUTS["RFC1123Z"], "Wed, 04 Feb 2009 21:00:57 -0800"),
        (LAYOUTS["RFC3339"], "2009-02-04T21:00:57-08:00"),
        (LAYOUTS["RFC3339NANO"], "2009-02-04T21:00:57.0123456-08:00"),
        (LAYOUTS["KITCHEN"], "9:00PM"),
        ("3pm", "9pm"),
        ("3PM", "9PM"),
        ("06 01 02", "09 02 04"),
        ("Hi Janet, the Month is January", "Hi Janet, the Month is February"),
        (LAYOUTS["STAMP"], "Feb  4 21:00:57"),
        (LAYOUTS["STAMP_MILLI"], "Feb  4 21:00:57.012"),
        (LAYOUTS["STAMP_MICRO"], "Feb  4 21:00:57.012345"),
        (LAYOUTS["STAMP_NANO"], "Feb  4 21:00:57.012345600"),
        (LAYOUTS["DATE_TIME"], "2009-02-04 21:00:57"),
        (LAYOUTS["DATE_ONLY"], "2009-02-04"),
        (LAYOUTS["TIME_ONLY"], "21:00:57"),
        ("Jan  2 002 __2 2", "Feb  4 035  35 4"),
        ("2006 6 06 _6 __6 ___6", "2009 6 09 _6 __6 ___6"),
        ("Jan January 1 01 _1", "Feb February 2 02 _2"),
        ("2 02 _2 __2", "4 04  4  35"),
        ("Mon Monday", "Wed Wednesday"),
        ("15 3 03 _3", "21 9 09 _9"),
        ("4 04 _4", "0 00 _0"),
        ("5 05 _5", "57 57 _57"),
        # Fractions: ',' separator, fixed width and trimmed forms.
        ("15:04:05,000", "21:00:57,012"),
        ("15:04:05,999999", "21:00:57,012345"),
        ("05.0", "57.0"),
        ("05.99", "57.01"),
        ("05.9999999999", "57.0123456"),
        # A digit after the run makes ".000" literal; "01" is then the month.
        ("05.0001", "57.0002"),
        ("_2006", "_2009"),
        ("-07 -07:00 -0700 -070000 -07:00:00", "-08 -08:00 -0800 -080000 -08:00:00"),
        ("Z07 Z07:00 Z0700 Z070000 Z07:00:00", "-08 -08:00 -0800 -080000 -08:00:00"),
    ],
)
def test_format_go_table(layout, want):
    t = g.date(2009, 2, 4, 21, 0, 57, 12345600, PST)
    assert t.format(layout) == want


def test_format_utc_offsets_and_zone_names():
    t = g.date(2009, 2, 4, 21, 0, 57, 0, UTC)
    assert t.format("Z07 Z07:00 Z0700 Z070000 Z07:00:00") == "Z Z Z Z Z"
    assert t.format("-07 -07:00 -0700") == "+00 +00:00 +0000"
    india = g.load_location("Asia/Kolkata")
    assert t.in_location(india).format("MST -07:00 Z0700") == "IST +05:30 +0530"
    odd = g.fixed_zone("", -(3 * 3600 + 25 * 60 + 7))
    assert t.in_location(odd).format("MST|-070000|-07:00:00") == "-0325|-032507|-03:25:07"


def test_format_am_pm():
    day = g.date(2020, 1, 1, 0, 5, 0, 0, UTC)
    assert day.format("3:04 PM pm 03") == "12:05 AM am 12"
    assert day.add(12 * HOUR).format("3:04 PM pm 03") == "12:05 PM pm 12"
    assert day.add(13 * HOUR).format(LAYOUTS["KITCHEN"]) == "1:05PM"


def test_string_and_format_rfc3339():
    shanghai = g.load_location("Asia/Shanghai")
    t = g.date(2015, 2, 25, 11, 6, 39, 0, LA)
    assert str(t) == "2015-02-25 11:06:39 -0800 PST"
    assert t.format_rfc3339() == "2015-02-25T11:06:39-08:00"
    assert t.utc().format(LAYOUTS["UNIX_DATE"]) == "Wed Feb 25 19:06:39 UTC 2015"
    assert t.in_location(shanghai).format("2006-01-02T15:04:05 -070000") == (
        "2015-02-26T03:06:39 +080000"
    )
    assert t.in_location(shanghai).format("2006-01-02T15:04:05 -07:00:00") == (
        "2015-02-26T03:06:39 +08:00:00"
    )
    assert str(t.add(123_400_000)) == "2015-02-25 11:06:39.1234 -0800 PST"
    assert g.date(2015, 2, 25, 11, 6, 39, 123_456_789, UTC).format_rfc3339() == (
        "2015-02-25T11:06:39Z"
    )


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


# Go's ExampleTime_Format: parse, then format with several layouts.
def test_go_format_example():
    t = g.parse(LAYOUTS["UNIX_DATE"], "Wed Feb 25 11:06:39 PST 2015", LA)
    assert str(t) == "2015-02-25 11:06:39 -0800 PST"
    assert t.format("Mon Jan 2 15:04:05 MST 2006") == "Wed Feb 25 11:06:39 PST 2015"
    assert t.format("2006/01/02") == "2015/02/25"
    assert t.format("3PM==3pm==15h") == "11AM==11am==11h"
    t = g.parse(LAYOUTS["UNIX_DATE"], "Wed Feb 25 11:06:39.1234 PST 2015", LA)
    assert t.format(LAYOUTS["UNIX_DATE"]) == "Wed Feb 25 11:06:39 PST 2015"
    assert t.format("15:04:05.00000") == "11:06:39.12340"
    assert t.format("15:04:05.99999999") == "11:06:39.1234"


# Go's ExampleParse.
def test_go_parse_example():
    long_form = "Jan 2, 2006 at 3:04pm (MST)"
    t = g.parse(long_form, "Feb 3, 2013 at 7:54pm (PST)", LA)
    assert str(t) == "2013-02-03 19:54:00 -0800 PST"
    assert str(g.parse("2006-Jan-02", "2013-Feb-03")) == "2013-02-03 00:00:00 +0000 UTC"
    rfc3339 = LAYOUTS["RFC3339"]
    assert str(g.parse(rfc3339, "2006-01-02T15:04:05Z")) == "2006-01-02 15:04:05 +0000 UTC"
    assert str(g.parse(rfc3339, "2006-01-02T15:04:05+07:00")) == ("2006-01-02 15:04:05 +0700 +0700")
    err = raises_kind(INVALID, g.parse, rfc3339, rfc3339)
    assert str(err) == 'parsing time "2006-01-02T15:04:05Z07:00": extra text: "07:00"'


# Go's ExampleParseInLocation.
def test_go_parse_in_location_example():
    berlin = g.load_location("Europe/Berlin")
    t = g.parse("Jan 2, 2006 at 3:04pm (MST)", "Jul 9, 2012 at 5:02am (CEST)", berlin)
    assert str(t) == "2012-07-09 05:02:00 +0200 CEST"
    assert str(g.parse("2006-Jan-02", "2012-Jul-09", berlin)) == "2012-07-09 00:00:00 +0200 CEST"


# Go's parseTests: all mean Thu Feb 4 2010 21:00:57 (-0800 when a zone is given).
@pytest.mark.parametrize(
    ("layout", "value", "has_tz", "frac_digits"),
    [
        (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:57 2010", False, 0),
        (LAYOUTS["UNIX_DATE"], "Thu Feb  4 21:00:57 PST 2010", True, 0),
        (LAYOUTS["RUBY_DATE"], "Thu Feb 04 21:00:57 -0800 2010", True, 0),
        (LAYOUTS["RFC850"], "Thursday, 04-Feb-10 21:00:57 PST", True, 0),
        (LAYOUTS["RFC1123"], "Thu, 04 Feb 2010 21:00:57 PST", True, 0),
        (LAYOUTS["RFC1123"], "Thu, 04 Feb 2010 22:00:57 PDT", True, 0),
        (LAYOUTS["RFC1123Z"], "Thu, 04 Feb 2010 21:00:57 -0800", True, 0),
        (LAYOUTS["RFC3339"], "2010-02-04T21:00:57-08:00", True, 0),
        ("2006-01-02 15:04:05-07", "2010-02-04 21:00:57-08", True, 0),
        # Optional fractional seconds.
        (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:57.0 2010", False, 1),
        (LAYOUTS["UNIX_DATE"], "Thu Feb  4 21:00:57.01 PST 2010", True, 2),
        (LAYOUTS["RUBY_DATE"], "Thu Feb 04 21:00:57.012 -0800 2010", True, 3),
        (LAYOUTS["RFC850"], "Thursday, 04-Feb-10 21:00:57.0123 PST", True, 4),
        (LAYOUTS["RFC1123"], "Thu, 04 Feb 2010 21:00:57.01234 PST", True, 5),
        (LAYOUTS["RFC1123Z"], "Thu, 04 Feb 2010 21:00:57.01234 -0800", True, 5),
        (LAYOUTS["RFC3339"], "2010-02-04T21:00:57.012345678-08:00", True, 9),
        ("2006-01-02 15:04:05", "2010-02-04 21:00:57.0", False, 1),
        # Amount of white space does not matter; neither does case.
        (LAYOUTS["ANSIC"], "Thu Feb 4 21:00:57 2010", False, 0),
        (LAYOUTS["ANSIC"], "Thu      Feb     4     21:00:57     2010", False, 0),
        (LAYOUTS["ANSIC"], "THU FEB 4 21:00:57 2010", False, 0),
        (LAYOUTS["ANSIC"], "thu feb 4 21:00:57 2010", False, 0),
        # Fractional seconds in the layout, with either separator.
        ("Mon Jan _2 15:04:05.000 2006", "Thu Feb  4 21:00:57.012 2010", False, 3),
        ("Mon Jan _2 15:04:05.000000 2006", "Thu Feb  4 21:00:57.012345 2010", False, 6),
        ("Mon Jan _2 15:04:05.000000000 2006", "Thu Feb  4 21:00:57.012345678 2010", False, 9),
        ("Mon Jan _2 15:04:05,000 2006", "Thu Feb  4 21:00:57.012 2010", False, 3),
        ("Mon Jan _2 15:04:05,000000 2006", "Thu Feb  4 21:00:57,012345 2010", False, 6),
        # Leading zeros elsewhere are not fractional seconds.
        ("2006.01.02.15.04.05.0", "2010.02.04.21.00.57.0", False, 1),
        ("2006.01.02.15.04.05.00", "2010.02.04.21.00.57.01", False, 2),
        # Month and day names only match when not followed by a lower-case letter.
        (
            "Hi Janet, the Month is January: Jan _2 15:04:05 2006",
            "Hi Janet, the Month is February: Feb  4 21:00:57 2010",
            False,
            0,
        ),
        # GMT with an hour offset.
        (LAYOUTS["UNIX_DATE"], "Fri Feb  5 05:00:57 GMT-8 2010", True, 0),
        # .999... accepts any number of digits, including none.
        ("2006-01-02 15:04:05.9999 -0700 MST", "2010-02-04 21:00:57 -0800 PST", True, 0),
        (
            "2006-01-02 15:04:05.999999999 -0700 MST",
            "2010-02-04 21:00:57 -0800 PST",
            True,
            0,
        ),
        ("2006-01-02 15:04:05.9999 -0700 MST", "2010-02-04 21:00:57.0123 -0800 PST", True, 4),
        (
            "2006-01-02 15:04:05.9999 -0700 MST",
            "2010-02-04 21:00:57.012345678 -0800 PST",
            True,
            9,
        ),
        # Day of year.
        ("2006-01-02 002 15:04:05", "2010-02-04 035 21:00:57", False, 0),
        ("2006-01 002 15:04:05", "2010-02 035 21:00:57", False, 0),
        ("2006-002 15:04:05", "2010-035 21:00:57", False, 0),
        ("200600201 15:04:05", "201003502 21:00:57", False, 0),
        ("200600204 15:04:05", "201003504 21:00:57", False, 0),
        ("2006 __2 15:04:05", "2010  35 21:00:57", False, 0),
    ],
)
def test_parse_go_table(layout, value, has_tz, frac_digits):
    t = g.parse(layout, value, LA)
    assert t.date() == (2010, 2, 4)
    assert t.clock() == (21, 0, 57)
    assert t.nanosecond() == int("012345678"[:frac_digits].ljust(9, "0"))
    if has_tz:
        assert t.zone()[1] == -8 * 3600
    if "Mon" in layout or "Monday" in layout:
        assert t.weekday() == 4


# Go's issue 4502 cases: no year in the layout means year 0.
@pytest.mark.parametrize(
    ("layout", "value", "nsec"),
    [
        (LAYOUTS["STAMP_NANO"], "Feb  4 21:00:57.012345678", 12345678),
        ("Jan _2 15:04:05.999", "Feb  4 21:00:57.012300000", 12300000),
        ("Jan _2 15:04:05.999", "Feb  4 21:00:57.012345678", 12345678),
        ("Jan _2 15:04:05.999999999", "Feb  4 21:00:57.0123", 12300000),
    ],
)
def test_parse_without_year(layout, value, nsec):
    t = g.parse(layout, value)
    assert t.date() == (0, 2, 4)
    assert t.nanosecond() == nsec


def test_parse_defaults_and_locations():
    t = g.parse("15:04", "10:30")
    assert str(t) == "0000-01-01 10:30:00 +0000 UTC"
    assert g.parse(LAYOUTS["DATE_ONLY"], "2024-02-29").loc is UTC
    assert g.parse(LAYOUTS["DATE_ONLY"], "2024-02-29", LA).loc is LA
    # A numeric offset matching the location's offset at that instant uses the location.
    summer = g.parse(LAYOUTS["RFC3339"], "2020-07-01T12:00:00-07:00", LA)
    assert summer.loc is LA and str(summer) == "2020-07-01 12:00:00 -0700 PDT"
    # One that does not becomes an unnamed fixed zone.
    other = g.parse(LAYOUTS["RFC3339"], "2020-07-01T12:00:00+03:00", LA)
    assert str(other.loc) == "" and str(other) == "2020-07-01 12:00:00 +0300 +0300"
    assert other.utc().hour() == 9
    # "UTC" and "Z" mean UTC even in another location.
    assert g.parse(LAYOUTS["RFC3339"], "2020-07-01T12:00:00Z", LA).loc is UTC
    assert g.parse(LAYOUTS["UNIX_DATE"], "Wed Jul  1 12:00:00 UTC 2020", LA).loc is UTC
    # An unknown zone name becomes a fixed zone of that name with offset 0.
    unknown = g.parse(LAYOUTS["RFC1123"], "Wed, 01 Jul 2020 12:00:00 XYZ")
    assert str(unknown) == "2020-07-01 12:00:00 +0000 XYZ"
    # Offset and name together (Go's String format) round-trip.
    zoned = g.parse(g._STRING_LAYOUT, "2020-07-01 12:00:00.5 -0700 PDT", LA)
    assert zoned.loc is LA and zoned.nanosecond() == 500_000_000


def test_parse_pm_am_and_special_zone_names():
    assert g.parse(LAYOUTS["KITCHEN"], "12:30AM").clock() == (0, 30, 0)
    assert g.parse(LAYOUTS["KITCHEN"], "12:30PM").clock() == (12, 30, 0)
    assert g.parse(LAYOUTS["KITCHEN"], "1:30PM").clock() == (13, 30, 0)
    assert g.parse("3:04pm", "1:30am").clock() == (1, 30, 0)
    for name in ("ChST", "MeST", "WITA", "AEST", "AKST", "+03", "-11", "GMT+10"):
        t = g.parse("15:04 MST", f"10:00 {name}")
        assert str(t.loc) == name
    assert g.parse("15:04 MST", "10:00 GMT+10").zone() == ("GMT+10", 10 * 3600)
    assert g.parse("15:04 MST", "10:00 GMT").zone() == ("GMT", 0)


@pytest.mark.parametrize(
    ("layout", "value", "message"),
    [
        (LAYOUTS["ANSIC"], "Feb  4 21:00:57 2010", 'cannot parse "Feb  4 21:00:57 2010" as "Mon"'),
        (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:57 @2010", 'cannot parse "@2010" as "2006"'),
        (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:60 2010", "second out of range"),
        (LAYOUTS["ANSIC"], "Thu Feb  4 21:61:57 2010", "minute out of range"),
        (LAYOUTS["ANSIC"], "Thu Feb  4 24:00:60 2010", "hour out of range"),
        (
            "Mon Jan _2 15:04:05.000 2006",
            "Thu Feb  4 23:00:59x01 2010",
            'cannot parse "x01 2010" as ".000"',
        ),
        (
            "Mon Jan _2 15:04:05.000 2006",
            "Thu Feb  4 23:00:59.xxx 2010",
            'cannot parse ".xxx 2010" as ".000"',
        ),
        (
            "Mon Jan _2 15:04:05.000 2006",
            "Thu Feb  4 23:00:59.-123 2010",
            "fractional second out of range",
        ),
        (LAYOUTS["STAMP_NANO"], "Dec  7 11:22:01.000000", 'cannot parse ".000000" as ".000000000"'),
        (LAYOUTS["STAMP_NANO"], "Dec  7 11:22:01.0000000000", 'extra text: "0"'),
        (
            LAYOUTS["RFC3339"],
            "2006-01-02T15:04:05Z07:00",
            'parsing time "2006-01-02T15:04:05Z07:00": extra text: "07:00"',
        ),
        (
            LAYOUTS["RFC3339"],
            "2006-01-02T15:04_abc",
            'parsing time "2006-01-02T15:04_abc" as "2006-01-02T15:04:05Z07:00": '
            'cannot parse "_abc" as ":"',
        ),
        (
            LAYOUTS["RFC3339"],
            "2006-01-02T15:04:05_abc",
            'parsing time "2006-01-02T15:04:05_abc" as "2006-01-02T15:04:05Z07:00": '
            'cannot parse "_abc" as "Z07:00"',
        ),
        (
            LAYOUTS["RFC3339"],
            "2006-01-02T15:04:05Z_abc",
            'parsing time "2006-01-02T15:04:05Z_abc": extra text: "_abc"',
        ),
        (LAYOUTS["RFC3339"], "2010-02-04T21:00:67.012345678-08:00", "second out of range"),
        (
            LAYOUTS["RFC3339"],
            "0000-01-01T00:00:.0+00:00",
            'parsing time "0000-01-01T00:00:.0+00:00" as "2006-01-02T15:04:05Z07:00": '
            'cannot parse ".0+00:00" as "05"',
        ),
        ("_2 Jan 06 15:04 MST", "4 --- 00 00:00 GMT", 'cannot parse "--- 00 00:00 GMT" as "Jan"'),
        ("_2 Jan 06 15:04 MST", "33 --- 00 00:00 GMT", 'cannot parse "--- 00 00:00 GMT" as "Jan"'),
        ("Jan _2 002 2006", "Feb  4 034 2006", "day-of-year does not match day"),
        ("Jan _2 002 2006", "Feb  4 004 2006", "day-of-year does not match month"),
        ("2006 002", "2006 366", "day-of-year out of range"),
        (
            '"2006-01-02T15:04:05Z07:00"',
            "0",
            'parsing time "0" as "\\"2006-01-02T15:04:05Z07:00\\"": cannot parse "0" as "\\""',
        ),
        (
            LAYOUTS["RFC3339"],
            '"',
            'parsing time "\\"" as "2006-01-02T15:04:05Z07:00": cannot parse "\\"" as "2006"',
        ),
        (
            LAYOUTS["RFC3339"],
            "0000-01-01T00:00:00+00:+0",
            'parsing time "0000-01-01T00:00:00+00:+0" as "2006-01-02T15:04:05Z07:00": '
            'cannot parse "+00:+0" as "Z07:00"',
        ),
        (
            LAYOUTS["RFC3339"],
            "0000-01-01T00:00:00+-0:00",
            'parsing time "0000-01-01T00:00:00+-0:00" as "2006-01-02T15:04:05Z07:00": '
            'cannot parse "+-0:00" as "Z07:00"',
        ),
        (LAYOUTS["DATE_ONLY"], "2023-02-29", 'parsing time "2023-02-29": day out of range'),
        (LAYOUTS["DATE_ONLY"], "2023-13-01", 'parsing time "2023-13-01": month out of range'),
        (LAYOUTS["DATE_ONLY"], "2023-04-31", "day out of range"),
        (LAYOUTS["KITCHEN"], "13:00PM", "hour out of range"),
        (LAYOUTS["KITCHEN"], "1:00XM", 'cannot parse "XM" as "PM"'),
        (LAYOUTS["RFC3339"], "2020-01-01T00:00:00+25:00", "time zone offset hour out of range"),
        (LAYOUTS["RFC3339"], "2020-01-01T00:00:00+01:61", "time zone offset minute out of range"),
        ("MST", "mst", 'cannot parse "mst" as "MST"'),
        (
            LAYOUTS["DATE_ONLY"],
            "2006/01/02",
            'parsing time "2006/01/02" as "2006-01-02": cannot parse "/01/02" as "-"',
        ),
        (LAYOUTS["DATE_ONLY"], "2024-01-0\u00e9", 'cannot parse "0\\xc3\\xa9" as "02"'),
    ],
)
def test_parse_errors(layout, value, message):
    err = raises_kind(INVALID, g.parse, layout, value)
    assert message in str(err)
    assert str(err).startswith("parsing time ")


def test_parse_accepts_24_hour_offsets_like_go():
    t = g.parse(LAYOUTS["RFC3339"], "2020-01-02T00:00:00+24:00")
    assert t.utc().date() == (2020, 1, 1)


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------

_MIN_NS = g.date(1, 1, 2, 0, 0, 0, 0, UTC).unix_ns
_MAX_NS = g.date(9999, 12, 30, 0, 0, 0, 0, UTC).unix_ns
_fixed_zones = st.builds(
    g.fixed_zone,
    st.sampled_from(["", "ABC", "X"]),
    st.integers(-14 * 60, 14 * 60).map(lambda minutes: minutes * 60),
)
_iana_zones = st.sampled_from(
    ["America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Apia"]
).map(g.load_location)


@given(st.integers(_MIN_NS, _MAX_NS), st.one_of(st.just(UTC), _fixed_zones))
def test_rfc3339nano_round_trip_fixed_zones(ns, loc):
    t = GoTime(ns, loc)
    text = t.format(LAYOUTS["RFC3339NANO"])
    back = g.parse(LAYOUTS["RFC3339NANO"], text)
    assert back.unix_nano() == ns
    assert back.zone()[1] == t.zone()[1]
    assert back.format(LAYOUTS["RFC3339NANO"]) == text


@given(st.integers(0, 4_102_444_800 * SECOND), _iana_zones)
def test_rfc3339nano_round_trip_iana_zones(ns, loc):
    t = GoTime(ns, loc)
    back = g.parse(LAYOUTS["RFC3339NANO"], t.format(LAYOUTS["RFC3339NANO"]), loc)
    assert back.equal(t)
    assert back.zone()[1] == t.zone()[1]
    if t.zone()[1] != 0:  # "Z" always parses as UTC, as in Go
        assert back.loc is loc
        assert str(back) == str(t)


@given(st.integers(_MIN_NS, _MAX_NS), st.integers(-14 * 60, 14 * 60))
def test_default_string_round_trip(ns, offset_minutes):
    # Zone names must look like abbreviations to be parsed back (as in Go).
    loc = g.fixed_zone("ABC", offset_minutes * 60)
    t = GoTime(ns, loc)
    back = g.parse(g._STRING_LAYOUT, str(t), loc)
    assert back.equal(t)
