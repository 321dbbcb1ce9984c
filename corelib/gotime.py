"""Go `time` package semantics in pure Python, for the Lua `time` module (lua-api.md §6).

Wippy applications were written against Go's `time` package, so durations, layouts, zone
handling and calendar normalisation must match Go exactly, including its quirks (`Parse`
accepting fractional seconds the layout does not mention, `Round` measured from the zero time,
error texts). Each routine here is a port of the corresponding Go routine; comments name it.

Instants are integer nanoseconds since the Unix epoch (`GoTime.unix_ns`); floats are never
used for instants. The calendar is computed with integer day arithmetic (proleptic Gregorian,
astronomical year numbering like Go), so any year works. Zone offsets come from `zoneinfo`,
which only covers years 1..9999; outside that range the offset at the nearest edge is used.

Durations are plain `int` nanoseconds, bounded like Go's int64 `Duration` where Go bounds them
(parsing, `GoTime.sub`).
"""

from __future__ import annotations

import math
import os
import time as _pytime
from collections.abc import Mapping
from datetime import UTC as _DT_UTC
from datetime import datetime, timedelta, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo

import attrs

from actors.errors import ActorError, invalid, not_found

__all__ = [
    "HOUR",
    "LAYOUTS",
    "MICROSECOND",
    "MILLISECOND",
    "MINUTE",
    "NANOSECOND",
    "SECOND",
    "UTC",
    "ZERO_TIME",
    "GoTime",
    "Local",
    "Location",
    "date",
    "duration_hours",
    "duration_microseconds",
    "duration_milliseconds",
    "duration_minutes",
    "duration_seconds",
    "fixed_zone",
    "format",
    "format_duration",
    "from_unix",
    "load_location",
    "now",
    "parse",
    "parse_duration",
]

# --------------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------------

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

# Go's unitMap: "us" and both micro signs (U+00B5, U+03BC) are accepted.
_UNITS: dict[str, int] = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,
    "\u03bcs": MICROSECOND,
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}


def _quote(s: str) -> str:
    """Go's `time.quote`: double quotes, non-ASCII and control bytes as `\\xNN` escapes.

    Go's error texts embed inputs this way, and Lua callers may match on them.
    """
    out = ['"']
    for ch in s:
        if ch < " " or ord(ch) >= 0x80:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
        elif ch in '"\\':
            out.append("\\" + ch)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _tdiv(a: int, b: int) -> int:
    """Integer division truncating toward zero, as Go's `/` does (Python's `//` floors)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _tmod(a: int, b: int) -> int:
    """Remainder with the sign of the dividend, as Go's `%` does."""
    return a - b * _tdiv(a, b)


def _leading_int(s: str) -> tuple[int, str] | None:
    """Go's `leadingInt`: consume leading ASCII digits; None on overflow past 1<<63."""
    x = 0
    i = 0
    while i < len(s) and "0" <= s[i] <= "9":
        if x > (1 << 63) // 10:
            return None
        x = x * 10 + ord(s[i]) - 48
        if x > 1 << 63:
            return None
        i += 1
    return x, s[i:]


def _leading_fraction(s: str) -> tuple[int, float, str]:
    """Go's `leadingFraction`: digits after the point; digits past int64 precision ignored."""
    x = 0
    scale = 1.0
    overflow = False
    i = 0
    while i < len(s) and "0" <= s[i] <= "9":
        if not overflow:
            y = x * 10 + ord(s[i]) - 48
            if x > _INT64_MAX // 10 or y > 1 << 63:
                overflow = True
            else:
                x = y
                scale *= 10
        i += 1
    return x, scale, s[i:]


def _parse_duration_string(orig: str) -> int:
    """Port of Go's `time.ParseDuration`, including its float step for fractions.

    Go computes `v + uint64(float64(f) * (float64(unit) / scale))`; doing the same float
    arithmetic keeps results identical to Go in the (rare) cases where exact integer
    arithmetic would differ by a nanosecond.
    """
    bad = invalid(f"time: invalid duration {_quote(orig)}")
    s = orig
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise bad
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise bad
        before = len(s)
        lead = _leading_int(s)
        if lead is None:
            raise bad
        v, s = lead
        pre = len(s) != before
        frac, scale, post = 0, 1.0, False
        if s and s[0] == ".":
            s = s[1:]
            before = len(s)
            frac, scale, s = _leading_fraction(s)
            post = len(s) != before
        if not pre and not post:
            raise bad
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise invalid(f"time: missing unit in duration {_quote(orig)}")
        unit_name, s = s[:i], s[i:]
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise invalid(f"time: unknown unit {_quote(unit_name)} in duration {_quote(orig)}")
        if v > (1 << 63) // unit:
            raise bad
        v *= unit
        if frac > 0:
            v += int(float(frac) * (float(unit) / scale))
            if v > 1 << 63:
                raise bad
        total += v
        if total > 1 << 63:
            raise bad
    if neg:
        return -total
    if total > _INT64_MAX:
        raise bad
    return total


def parse_duration(value: str | int | float) -> int:
    """A duration argument (§6) to integer nanoseconds.

    Strings use Go syntax (`"1h30m45.5s"`, `"-1.5µs"`, `"0"`). Numbers are nanoseconds;
    fractional numbers are truncated toward zero (our documented choice). Anything that is
    not a valid int64 duration raises `Invalid`.
    """
    if isinstance(value, bool):
        raise invalid(f"time: invalid duration {value!r}")
    if isinstance(value, str):
        return _parse_duration_string(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise invalid(f"time: invalid duration {value!r}")
        value = int(value)  # truncates toward zero
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise invalid(f"time: invalid duration {value} (out of range)")
        return value
    raise invalid(f"time: invalid duration of type {type(value).__name__}")


def _fmt_frac(value: int, prec: int) -> str:
    """`value / 10**prec` as Go's fmtInt+fmtFrac print it: trailing zeros and point dropped."""
    whole, frac = divmod(value, 10**prec)
    digits = f"{frac:0{prec}d}".rstrip("0") if prec else ""
    return f"{whole}.{digits}" if digits else str(whole)


def format_duration(ns: int) -> str:
    """Go's `Duration.String()`: `72h3m0.5s`, `1.5µs`, `-2ms`, `0s`.

    Under one second the largest fitting sub-second unit is used; otherwise hours, minutes
    and seconds (never days, which vary in length).
    """
    u = abs(ns)
    sign = "-" if ns < 0 else ""
    if u == 0:
        return "0s"
    if u < MICROSECOND:
        return f"{sign}{u}ns"
    if u < MILLISECOND:
        return f"{sign}{_fmt_frac(u, 3)}µs"
    if u < SECOND:
        return f"{sign}{_fmt_frac(u, 6)}ms"
    total_sec, frac = divmod(u, SECOND)
    minutes, sec = divmod(total_sec, 60)
    hours, minutes = divmod(minutes, 60)
    out = _fmt_frac(sec * SECOND + frac, 9) + "s"
    if minutes or hours:
        out = f"{minutes}m{out}"
    if hours:
        out = f"{hours}h{out}"
    return sign + out


@attrs.frozen(order=True)
class Duration:
    """A Go `time.Duration` as a value of its own, so Lua code gets methods and `tostring`
    (lua-api §6.3) and the value survives a trip to another process as a duration."""

    ns: int = attrs.field(validator=attrs.validators.instance_of(int))

    def __str__(self) -> str:
        return format_duration(self.ns)


def duration_hours(ns: int) -> float:
    """Go's `Duration.Hours()`: whole hours plus the float remainder (exact for whole hours)."""
    return _tdiv(ns, HOUR) + _tmod(ns, HOUR) / (60 * 60 * 1e9)


def duration_minutes(ns: int) -> float:
    """Go's `Duration.Minutes()`."""
    return _tdiv(ns, MINUTE) + _tmod(ns, MINUTE) / (60 * 1e9)


def duration_seconds(ns: int) -> float:
    """Go's `Duration.Seconds()`."""
    return _tdiv(ns, SECOND) + _tmod(ns, SECOND) / 1e9


def duration_milliseconds(ns: int) -> int:
    """Go's `Duration.Milliseconds()`: an integer, truncated toward zero (§6.3, §17.4)."""
    return _tdiv(ns, MILLISECOND)


def duration_microseconds(ns: int) -> int:
    """Go's `Duration.Microseconds()`: an integer, truncated toward zero."""
    return _tdiv(ns, MICROSECOND)


# --------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=_DT_UTC)
# zoneinfo works on datetimes (years 1..9999); keep a day of slack for offsets at the edges.
_ZONE_MIN_SEC = int((datetime(1, 1, 2, tzinfo=_DT_UTC) - _EPOCH).total_seconds())
_ZONE_MAX_SEC = int((datetime(9999, 12, 30, tzinfo=_DT_UTC) - _EPOCH).total_seconds())


@attrs.frozen
class Location:
    """A Go `*time.Location`: a name plus either a fixed offset or a tz database zone.

    `zone is None` means a fixed zone (`UTC`, `fixed_zone`), whose abbreviation is its name,
    as in Go. Otherwise offsets and abbreviations come from `zone` for each instant.
    """

    name: str
    offset: int = 0
    zone: tzinfo | None = None

    def __str__(self) -> str:
        return self.name

    def lookup(self, unix_sec: int) -> tuple[str, int]:
        """Zone abbreviation and UTC offset (seconds) in effect at `unix_sec` (Go `lookup`)."""
        if self.zone is None:
            return self.name, self.offset
        clamped = min(max(unix_sec, _ZONE_MIN_SEC), _ZONE_MAX_SEC)
        wall = (_EPOCH + timedelta(seconds=clamped)).astimezone(self.zone)
        offset = wall.utcoffset() or timedelta(0)
        return wall.tzname() or "", offset.days * 86400 + offset.seconds

    def lookup_name(self, abbrev: str, unix_sec: int) -> int | None:
        """The offset of zone abbreviation `abbrev` near `unix_sec` (Go `lookupName`).

        Go scans every zone of the tz file. zoneinfo does not expose that list, so we sample
        the zones in effect within about a year of `unix_sec`; enough for the abbreviations
        `Parse` meets in practice (standard and daylight time of the location).
        """
        if self.zone is None:
            return self.offset if abbrev == self.name else None
        seen: list[tuple[str, int]] = []
        for month in range(-13, 14):
            zone = self.lookup(unix_sec + month * 30 * 86400)
            if zone not in seen:
                seen.append(zone)
        for name, offset in seen:
            if name == abbrev:
                actual_name, actual_offset = self.lookup(unix_sec - offset)
                if actual_name == abbrev:
                    return actual_offset
        for name, offset in seen:
            if name == abbrev:
                return offset
        return None


UTC = Location("UTC")


def _load_local_zone(environ: Mapping[str, str]) -> tzinfo:
    """The machine's zone, chosen as Go's `initLocal` does on Unix.

    TZ unset → /etc/localtime; TZ="" or "UTC" → UTC; TZ=":name" or "name" → that tz database
    entry or absolute file; anything unloadable → UTC.
    """
    tz = environ.get("TZ")
    try:
        if tz is None:
            with open("/etc/localtime", "rb") as f:
                return ZoneInfo.from_file(f, key="localtime")
        tz = tz.removeprefix(":")
        if tz.startswith("/"):
            with open(tz, "rb") as f:
                return ZoneInfo.from_file(f, key=tz)
        if tz and tz != "UTC":
            return ZoneInfo(tz)
    except (OSError, ValueError, KeyError):
        pass
    return _DT_UTC


# Our choice (spec §6.2): the local location is always named "Local", even where Go would
# name it after $TZ.
Local = Location("Local", zone=_load_local_zone(os.environ))


def fixed_zone(name: str, offset_seconds: int) -> Location:
    """Go's `time.FixedZone`: always `offset_seconds` east of UTC, abbreviated `name`."""
    return Location(name, offset=int(offset_seconds))


def load_location(name: str) -> Location:
    """Go's `time.LoadLocation`, except that an empty name is `Invalid` (spec §6.1).

    "UTC" and "Local" are the singletons; other names are tz database keys. A name Go
    rejects as malformed (".." or a leading slash) is `Invalid`; an unknown one `NotFound`.
    """
    if name == "":
        raise invalid("time: empty location name")
    if name == "UTC":
        return UTC
    if name == "Local":
        return Local
    if ".." in name or name[0] in "/\\":
        raise invalid("time: invalid location name")
    try:
        zone = ZoneInfo(name)
    except (OSError, ValueError, KeyError) as exc:
        raise not_found(f"unknown time zone {name}") from exc
    return Location(name, zone=zone)


# --------------------------------------------------------------------------------------------
# Calendar arithmetic (integer days since 1970-01-01, proleptic Gregorian)
# --------------------------------------------------------------------------------------------

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# Days before the start of each month in a non-leap year (Go's daysBefore).
_DAYS_BEFORE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in(month: int, year: int) -> int:
    if month == 2 and _is_leap(year):
        return 29
    return _DAYS_BEFORE[month] - _DAYS_BEFORE[month - 1]


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a valid date (Hinnant's algorithm; works for any year)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """Inverse of `_days_from_civil`: (year, month, day)."""
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


# Go's zero Time: January 1, year 1, 00:00:00 UTC.
_ZERO_UNIX_NS = _days_from_civil(1, 1, 1) * 86400 * SECOND


class _Fields(NamedTuple):
    """A Time broken down in its location: everything `format` and the getters need."""

    year: int
    month: int
    day: int
    yday: int
    weekday: int
    hour: int
    minute: int
    second: int
    nsec: int
    zone_name: str
    offset: int


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


@attrs.frozen
class GoTime:
    """A Go `time.Time`: an instant (integer ns since the Unix epoch) shown in a Location.

    Immutable: every operation returns a new value. `==` compares instant and location (Go's
    `==`); `equal` compares instants only. There is no monotonic clock reading.
    """

    # Integers only: a float here would silently lose nanoseconds.
    unix_ns: int = attrs.field(validator=attrs.validators.instance_of(int))
    loc: Location = UTC

    # -- broken-down fields -------------------------------------------------------------

    def _fields(self) -> _Fields:
        sec, nsec = divmod(self.unix_ns, SECOND)
        zone_name, offset = self.loc.lookup(sec)
        days, sod = divmod(sec + offset, 86400)
        year, month, day = _civil_from_days(days)
        hour, rem = divmod(sod, 3600)
        minute, second = divmod(rem, 60)
        return _Fields(
            year=year,
            month=month,
            day=day,
            yday=days - _days_from_civil(year, 1, 1) + 1,
            weekday=(days + 4) % 7,  # 1970-01-01 was a Thursday
            hour=hour,
            minute=minute,
            second=second,
            nsec=nsec,
            zone_name=zone_name,
            offset=offset,
        )

    def date(self) -> tuple[int, int, int]:
        f = self._fields()
        return f.year, f.month, f.day

    def clock(self) -> tuple[int, int, int]:
        f = self._fields()
        return f.hour, f.minute, f.second

    def year(self) -> int:
        return self._fields().year

    def month(self) -> int:
        return self._fields().month

    def day(self) -> int:
        return self._fields().day

    def hour(self) -> int:
        return self._fields().hour

    def minute(self) -> int:
        return self._fields().minute

    def second(self) -> int:
        return self._fields().second

    def nanosecond(self) -> int:
        return self.unix_ns % SECOND

    def weekday(self) -> int:
        """Day of the week, 0 = Sunday."""
        return self._fields().weekday

    def year_day(self) -> int:
        """Day of the year, 1..366."""
        return self._fields().yday

    def zone(self) -> tuple[str, int]:
        """Zone abbreviation and offset in seconds east of UTC (Go `Zone`)."""
        return self.loc.lookup(self.unix())

    def unix(self) -> int:
        """Seconds since the epoch, floored (the nanosecond part is always non-negative)."""
        return self.unix_ns // SECOND

    def unix_nano(self) -> int:
        return self.unix_ns

    def is_zero(self) -> bool:
        """True for Go's zero Time, January 1 year 1 00:00:00 UTC (in any location)."""
        return self.unix_ns == _ZERO_UNIX_NS

    def location(self) -> Location:
        return self.loc

    # -- arithmetic ---------------------------------------------------------------------

    def add(self, d: int) -> GoTime:
        return GoTime(self.unix_ns + d, self.loc)

    def sub(self, other: GoTime) -> int:
        """`self - other` in ns, saturated to the int64 Duration range as Go does."""
        return min(max(self.unix_ns - other.unix_ns, _INT64_MIN), _INT64_MAX)

    def add_date(self, years: int, months: int, days: int) -> GoTime:
        """Go `AddDate`: add to the calendar fields, then normalise (Oct 31 + 1 month = Dec 1)."""
        f = self._fields()
        return date(
            f.year + years,
            f.month + months,
            f.day + days,
            f.hour,
            f.minute,
            f.second,
            f.nsec,
            self.loc,
        )

    def truncate(self, d: int) -> GoTime:
        """Round down to a multiple of `d` since the zero time (not the Unix epoch), as Go."""
        if d <= 0:
            return self
        return GoTime(self.unix_ns - (self.unix_ns - _ZERO_UNIX_NS) % d, self.loc)

    def round(self, d: int) -> GoTime:
        """Round to the nearest multiple of `d` since the zero time; halfway rounds up."""
        if d <= 0:
            return self
        r = (self.unix_ns - _ZERO_UNIX_NS) % d
        if r + r < d:
            return GoTime(self.unix_ns - r, self.loc)
        return GoTime(self.unix_ns + d - r, self.loc)

    # -- comparison ---------------------------------------------------------------------

    def before(self, other: GoTime) -> bool:
        return self.unix_ns < other.unix_ns

    def after(self, other: GoTime) -> bool:
        return self.unix_ns > other.unix_ns

    def equal(self, other: GoTime) -> bool:
        return self.unix_ns == other.unix_ns

    # Ordering is by instant (what Lua's `<` / `<=` use); `==` stays Go's `==` above.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, GoTime):
            return NotImplemented
        return self.unix_ns < other.unix_ns

    def __le__(self, other: object) -> bool:
        if not isinstance(other, GoTime):
            return NotImplemented
        return self.unix_ns <= other.unix_ns

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, GoTime):
            return NotImplemented
        return self.unix_ns > other.unix_ns

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, GoTime):
            return NotImplemented
        return self.unix_ns >= other.unix_ns

    # -- locations ----------------------------------------------------------------------

    def utc(self) -> GoTime:
        return GoTime(self.unix_ns, UTC)

    def in_local(self) -> GoTime:
        return GoTime(self.unix_ns, Local)

    def in_location(self, loc: Location) -> GoTime:
        return GoTime(self.unix_ns, loc)

    # -- text ---------------------------------------------------------------------------

    def format(self, layout: str) -> str:
        return format(self, layout)

    def format_rfc3339(self) -> str:
        return format(self, LAYOUTS["RFC3339"])

    def __str__(self) -> str:
        return format(self, _STRING_LAYOUT)


# Go's `time.Time{}`, what `is_zero` recognises.
ZERO_TIME = GoTime(_ZERO_UNIX_NS, UTC)


def now() -> GoTime:
    """The current time in the local location."""
    return GoTime(_pytime.time_ns(), Local)


def from_unix(sec: int, nsec: int = 0, loc: Location = Local) -> GoTime:
    """Go `time.Unix`: `nsec` may lie outside [0, 1e9) and is carried into seconds."""
    return GoTime(sec * SECOND + nsec, loc)


def date(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    nsec: int = 0,
    loc: Location = Local,
) -> GoTime:
    """Go `time.Date`: out-of-range fields carry over (month 13 → January of next year,
    Feb 30 → Mar 1 or 2, hour -1 → 23:00 of the previous day).

    For wall times skipped or repeated by a DST change the offset is chosen by Go's
    algorithm: the offset in effect at the wall time read as UTC, corrected once.
    """
    carry, month0 = divmod(month - 1, 12)
    days = _days_from_civil(year + carry, month0 + 1, 1) + day - 1
    wall = days * 86400 + hour * 3600 + minute * 60 + second  # may be out of range: fine
    unix_sec = wall + nsec // SECOND
    offset = loc.lookup(unix_sec)[1]
    if offset != 0:
        offset = loc.lookup(unix_sec - offset)[1]
    return GoTime((unix_sec - offset) * SECOND + nsec % SECOND, loc)


# --------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------

LAYOUTS: dict[str, str] = {
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

# Go's Time.String() layout (our choice for tostring, spec §6.2).
_STRING_LAYOUT = "2006-01-02 15:04:05.999999999 -0700 MST"


class _Std(NamedTuple):
    """One layout element (Go's `std*` codes) with the parameters some of them carry."""

    kind: str
    digits: int = 0  # fractional seconds: how many 0s / 9s
    sep: str = "."  # fractional seconds: '.' or ','
    z: bool = False  # numeric zone: ISO 8601 "Z" variant (prints Z for UTC)
    colon: bool = False  # numeric zone: -07:00 style
    seconds: bool = False  # numeric zone: includes seconds (-070000, -07:00:00)
    short: bool = False  # numeric zone: hours only (-07)


# Numeric zone tokens after the leading '-' or 'Z', in Go's matching order.
_OFFSET_TOKENS = (
    ("070000", _Std("offset", seconds=True)),
    ("07:00:00", _Std("offset", colon=True, seconds=True)),
    ("0700", _Std("offset")),
    ("07:00", _Std("offset", colon=True)),
    ("07", _Std("offset", short=True)),
)
# "01".."06" after a leading '0'.
_ZERO_TOKENS = {
    "1": _Std("month_zero"),
    "2": _Std("day_zero"),
    "3": _Std("hour12_zero"),
    "4": _Std("minute_zero"),
    "5": _Std("second_zero"),
    "6": _Std("year2"),
}


def _starts_lower(s: str) -> bool:
    return bool(s) and "a" <= s[0] <= "z"


def _is_digit(s: str, i: int) -> bool:
    return i < len(s) and "0" <= s[i] <= "9"


def _std_at(layout: str, i: int) -> tuple[_Std, int] | None:
    """The layout element starting at `layout[i]` and its length, if any (Go nextStdChunk).

    The checks and their order follow Go exactly, e.g. "Jan" is a month only when not
    followed by a lower-case letter.
    """
    rest = layout[i:]
    c = rest[0]
    if c == "J" and rest.startswith("Jan"):
        if rest.startswith("January"):
            return _Std("month_long"), 7
        if not _starts_lower(rest[3:]):
            return _Std("month_short"), 3
    elif c == "M":
        if rest.startswith("Mon"):
            if rest.startswith("Monday"):
                return _Std("weekday_long"), 6
            if not _starts_lower(rest[3:]):
                return _Std("weekday_short"), 3
        if rest.startswith("MST"):
            return _Std("zone_name"), 3
    elif c == "0":
        if len(rest) >= 2 and rest[1] in _ZERO_TOKENS:
            return _ZERO_TOKENS[rest[1]], 2
        if rest.startswith("002"):
            return _Std("yday_zero"), 3
    elif c == "1":
        if rest.startswith("15"):
            return _Std("hour24"), 2
        return _Std("month_num"), 1
    elif c == "2":
        if rest.startswith("2006"):
            return _Std("year4"), 4
        return _Std("day_num"), 1
    elif c == "_":
        if rest.startswith("_2"):
            return _Std("day_under"), 2
        if rest.startswith("__2"):
            return _Std("yday_under"), 3
    elif c in "345":
        return _Std({"3": "hour12", "4": "minute_num", "5": "second_num"}[c]), 1
    elif c == "P" and rest.startswith("PM"):
        return _Std("PM"), 2
    elif c == "p" and rest.startswith("pm"):
        return _Std("pm"), 2
    elif c in "-Z":
        for token, std in _OFFSET_TOKENS:
            if rest.startswith(token, 1):
                return std._replace(z=c == "Z"), 1 + len(token)
    elif c in ".," and len(rest) >= 2 and rest[1] in "09":
        j = 1
        while j < len(rest) and rest[j] == rest[1]:
            j += 1
        if not _is_digit(rest, j):  # a run of 0s/9s followed by more digits is literal
            kind = "frac0" if rest[1] == "0" else "frac9"
            return _Std(kind, digits=j - 1, sep=c), j
    return None


def _next_chunk(layout: str) -> tuple[str, _Std | None, str]:
    """Split `layout` into literal prefix, first element, and the rest (Go nextStdChunk)."""
    for i in range(len(layout)):
        if layout.startswith("_2006", i):
            # Go: "_2006" is a literal "_" followed by the year, not "_2" then "006".
            return layout[: i + 1], _Std("year4"), layout[i + 5 :]
        found = _std_at(layout, i)
        if found is not None:
            std, length = found
            return layout[:i], std, layout[i + length :]
    return layout, None, ""


# -- formatting -------------------------------------------------------------------------------


def _pad(x: int, width: int) -> str:
    """Go's appendInt: sign, then at least `width` digits."""
    return ("-" if x < 0 else "") + str(abs(x)).zfill(width)


def _format_offset(f: _Fields, std: _Std) -> str:
    """Numeric zone (Go's truncating arithmetic, so a -30 s offset prints as +00:00)."""
    if std.z and f.offset == 0:
        return "Z"
    zone = _tdiv(f.offset, 60)
    abs_offset = abs(f.offset) if zone < 0 else f.offset
    out = ["-" if zone < 0 else "+"]
    zone = abs(zone)
    out.append(_pad(zone // 60, 2))
    if std.colon:
        out.append(":")
    if not std.short:
        out.append(_pad(zone % 60, 2))
    if std.seconds:
        if std.colon:
            out.append(":")
        out.append(_pad(_tmod(abs_offset, 60), 2))
    return "".join(out)


def _format_zone_name(f: _Fields) -> str:
    """MST: the abbreviation, or -0700 style when the zone has no name."""
    if f.zone_name:
        return f.zone_name
    zone = _tdiv(f.offset, 60)
    return ("-" if zone < 0 else "+") + _pad(abs(zone) // 60, 2) + _pad(abs(zone) % 60, 2)


def _format_frac(f: _Fields, std: _Std) -> str:
    """Go appendNano: `.000` keeps width, `.999` trims trailing zeros (and the separator)."""
    digits = f"{f.nsec:09d}"[: min(std.digits, 9)]
    if std.kind == "frac9":
        digits = digits.rstrip("0")
        if not digits:
            return ""
    return std.sep + digits


def _hour12(hour: int) -> int:
    return hour % 12 or 12  # noon is 12PM, midnight 12AM


_FORMATTERS = {
    "year2": lambda f, s: _pad(abs(f.year) % 100, 2),
    "year4": lambda f, s: _pad(f.year, 4),
    "month_short": lambda f, s: _MONTH_NAMES[f.month - 1][:3],
    "month_long": lambda f, s: _MONTH_NAMES[f.month - 1],
    "month_num": lambda f, s: str(f.month),
    "month_zero": lambda f, s: _pad(f.month, 2),
    "weekday_short": lambda f, s: _DAY_NAMES[f.weekday][:3],
    "weekday_long": lambda f, s: _DAY_NAMES[f.weekday],
    "day_num": lambda f, s: str(f.day),
    "day_under": lambda f, s: f"{f.day:2d}",
    "day_zero": lambda f, s: _pad(f.day, 2),
    "yday_under": lambda f, s: f"{f.yday:3d}",
    "yday_zero": lambda f, s: _pad(f.yday, 3),
    "hour24": lambda f, s: _pad(f.hour, 2),
    "hour12": lambda f, s: str(_hour12(f.hour)),
    "hour12_zero": lambda f, s: _pad(_hour12(f.hour), 2),
    "minute_num": lambda f, s: str(f.minute),
    "minute_zero": lambda f, s: _pad(f.minute, 2),
    "second_num": lambda f, s: str(f.second),
    "second_zero": lambda f, s: _pad(f.second, 2),
    "PM": lambda f, s: "PM" if f.hour >= 12 else "AM",
    "pm": lambda f, s: "pm" if f.hour >= 12 else "am",
    "offset": _format_offset,
    "zone_name": lambda f, s: _format_zone_name(f),
    "frac0": _format_frac,
    "frac9": _format_frac,
}


def format(t: GoTime, layout: str) -> str:
    """Go `Time.Format`: render `t` in its location using a reference-time layout."""
    fields = t._fields()
    out: list[str] = []
    while layout:
        prefix, std, layout = _next_chunk(layout)
        out.append(prefix)
        if std is None:
            break
        out.append(_FORMATTERS[std.kind](fields, std))
    return "".join(out)


# -- parsing ----------------------------------------------------------------------------------


class _Bad(Exception):
    """The value does not match the current layout element ("cannot parse")."""


class _OutOfRange(Exception):
    """A field parsed but is out of range; args[0] names it ("month", "hour", ...)."""


@attrs.define
class _ParseState:
    """Fields collected while parsing (Go `parse` locals; -1 / None mean "not seen")."""

    year: int = 0
    month: int = -1
    day: int = -1
    yday: int = -1
    hour: int = 0
    minute: int = 0
    second: int = 0
    nsec: int = 0
    am: bool = False
    pm: bool = False
    zone: Location | None = None
    zone_offset: int | None = None
    zone_name: str = ""


def _cutspace(s: str) -> str:
    return s.lstrip(" ")


def _skip(value: str, prefix: str) -> tuple[str, bool]:
    """Go `skip`: match literal layout text; a space in the layout matches any run of spaces."""
    while prefix:
        if prefix[0] == " ":
            if value and value[0] != " ":
                return value, False
            prefix = _cutspace(prefix)
            value = _cutspace(value)
            continue
        if not value or value[0] != prefix[0]:
            return value, False
        prefix, value = prefix[1:], value[1:]
    return value, True


def _atoi(s: str) -> int:
    """Go `atoi`: optional sign then digits only."""
    neg = False
    if s and s[0] in "+-":
        neg, s = s[0] == "-", s[1:]
    lead = _leading_int(s)
    if lead is None or lead[1]:
        raise _Bad
    return -lead[0] if neg else lead[0]


def _getnum(s: str, fixed: bool) -> tuple[int, str]:
    """Go `getnum`: one or two digits (exactly two when `fixed`)."""
    if not _is_digit(s, 0):
        raise _Bad
    if not _is_digit(s, 1):
        if fixed:
            raise _Bad
        return int(s[0]), s[1:]
    return int(s[:2]), s[2:]


def _getnum3(s: str, fixed: bool) -> tuple[int, str]:
    """Go `getnum3`: one to three digits (exactly three when `fixed`)."""
    i = 0
    while i < 3 and _is_digit(s, i):
        i += 1
    if i == 0 or (fixed and i != 3):
        raise _Bad
    return int(s[:i]), s[i:]


def _lookup(names: tuple[str, ...] | list[str], value: str) -> tuple[int, str]:
    """Go `lookup`: the first name that prefixes `value`, ASCII case-insensitively."""
    for i, name in enumerate(names):
        if len(value) >= len(name) and value[: len(name)].lower() == name.lower():
            return i, value[len(name) :]
    raise _Bad


def _parse_nanoseconds(value: str, nbytes: int) -> int:
    """Go `parseNanoseconds`: `value[:nbytes]` is a separator plus digits; >9 digits dropped."""
    if value[0] not in ".,":
        raise _Bad
    nbytes = min(nbytes, 10)
    ns = _atoi(value[1:nbytes])
    if ns < 0:
        raise _OutOfRange("fractional second")
    return ns * 10 ** (10 - nbytes)


def _p_year2(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    if len(value) < 2:
        raise _Bad
    year = _atoi(value[:2])
    st.year = year + (1900 if year >= 69 else 2000)
    return value[2:]


def _p_year4(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    if len(value) < 4 or not _is_digit(value, 0):
        raise _Bad
    st.year = _atoi(value[:4])
    return value[4:]


def _p_month_name(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    names = [n[:3] for n in _MONTH_NAMES] if std.kind == "month_short" else _MONTH_NAMES
    index, value = _lookup(names, value)
    st.month = index + 1
    return value


def _p_month_num(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    st.month, value = _getnum(value, std.kind == "month_zero")
    if not 1 <= st.month <= 12:
        raise _OutOfRange("month")
    return value


def _p_weekday(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    """Weekday names are checked for syntax only, as in Go."""
    names = [n[:3] for n in _DAY_NAMES] if std.kind == "weekday_short" else _DAY_NAMES
    return _lookup(names, value)[1]


def _p_day(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    if std.kind == "day_under" and value[:1] == " ":
        value = value[1:]
    st.day, value = _getnum(value, std.kind == "day_zero")
    return value  # validated against month and year once everything is parsed


def _p_yday(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    if std.kind == "yday_under":
        for _ in range(2):
            if value[:1] == " ":
                value = value[1:]
    st.yday, value = _getnum3(value, std.kind == "yday_zero")
    return value


def _p_hour(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    st.hour, value = _getnum(value, std.kind == "hour12_zero")
    limit = 23 if std.kind == "hour24" else 12
    if st.hour > limit:
        raise _OutOfRange("hour")
    return value


def _p_minute(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    st.minute, value = _getnum(value, std.kind == "minute_zero")
    if st.minute >= 60:
        raise _OutOfRange("minute")
    return value


def _p_second(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    """Seconds, plus a fraction the layout does not mention (Go accepts one here)."""
    st.second, value = _getnum(value, std.kind == "second_zero")
    if st.second >= 60:
        raise _OutOfRange("second")
    if len(value) >= 2 and value[0] in ".," and _is_digit(value, 1):
        following = _next_chunk(layout)[1]
        if following is not None and following.kind in ("frac0", "frac9"):
            return value  # the layout's own fraction element will take it
        n = 2
        while _is_digit(value, n):
            n += 1
        st.nsec = _parse_nanoseconds(value, n)
        value = value[n:]
    return value


def _p_ampm(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    if len(value) < 2:
        raise _Bad
    marker = value[:2]
    am, pm = ("AM", "PM") if std.kind == "PM" else ("am", "pm")
    if marker == pm:
        st.pm = True
    elif marker == am:
        st.am = True
    else:
        raise _Bad
    return value[2:]


def _split_offset(value: str, std: _Std) -> tuple[str, tuple[str, str, str], str]:
    """Cut a numeric zone off `value`: (sign char, (hh, mm, ss) texts, rest)."""
    if std.colon and std.seconds:
        if len(value) < 9 or value[3] != ":" or value[6] != ":":
            raise _Bad
        return value[0], (value[1:3], value[4:6], value[7:9]), value[9:]
    if std.colon:
        if len(value) < 6 or value[3] != ":":
            raise _Bad
        return value[0], (value[1:3], value[4:6], "00"), value[6:]
    if std.short:
        if len(value) < 3:
            raise _Bad
        return value[0], (value[1:3], "00", "00"), value[3:]
    if std.seconds:
        if len(value) < 7:
            raise _Bad
        return value[0], (value[1:3], value[3:5], value[5:7]), value[7:]
    if len(value) < 5:
        raise _Bad
    return value[0], (value[1:3], value[3:5], "00"), value[5:]


def _p_offset(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    """Numeric zone; the "Z" variants also accept a literal Z for UTC.

    Go checks ranges (with `>`, since people write offsets of 24 hours or 60 minutes) before
    reporting a malformed number or sign, and so do we.
    """
    if std.z and value[:1] == "Z":
        st.zone = UTC
        return value[1:]
    sign, texts, value = _split_offset(value, std)
    numbers = [0, 0, 0]
    bad = False
    for i, text in enumerate(texts):
        try:
            numbers[i] = _getnum(text, True)[0]
        except _Bad:
            bad = True
            break
    hours, minutes, seconds = numbers
    checks = ((hours, 24, "hour"), (minutes, 60, "minute"), (seconds, 60, "second"))
    out_of_range = [what for number, limit, what in checks if number > limit]
    if out_of_range:  # Go keeps the last failing check's name
        raise _OutOfRange(f"time zone offset {out_of_range[-1]}")
    if bad or sign not in "+-":
        raise _Bad
    offset = (hours * 60 + minutes) * 60 + seconds
    st.zone_offset = -offset if sign == "-" else offset
    return value


def _p_zone_name(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    if value.startswith("UTC"):
        st.zone = UTC
        return value[3:]
    length = _zone_name_length(value)
    if length is None:
        raise _Bad
    st.zone_name = value[:length]
    return value[length:]


def _p_frac0(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    """`.000`: exactly as many digits as the layout has."""
    ndigit = 1 + std.digits
    if len(value) < ndigit:
        raise _Bad
    st.nsec = _parse_nanoseconds(value, ndigit)
    return value[ndigit:]


def _p_frac9(st: _ParseState, value: str, std: _Std, layout: str) -> str:
    """`.999`: optional, and any number of digits (as the seconds element would take)."""
    if len(value) < 2 or value[0] not in ".," or not _is_digit(value, 1):
        return value
    i = 1
    while _is_digit(value, i + 1):
        i += 1
    st.nsec = _parse_nanoseconds(value, 1 + i)
    return value[1 + i :]


def _signed_offset_length(value: str) -> int:
    """Go `parseSignedOffset`: length of "+h" / "-hh" (hours at most 12), 0 if none."""
    if not value or value[0] not in "+-":
        return 0
    lead = _leading_int(value[1:])
    if lead is None or lead[1] == value[1:] or lead[0] > 12:
        return 0
    return len(value) - len(lead[1])


def _zone_name_length(value: str) -> int | None:
    """Go `parseTimeZone`: how much of `value` looks like a zone abbreviation, if any.

    Three upper-case letters (`MST`), four or five ending in T (`AEST`, `AKDT`... and `WITA`),
    `ChST`/`MeST`, `GMT` with an optional hour offset, or a bare `+03`/`-11`.
    """
    if len(value) < 3:
        return None
    if value[:4] in ("ChST", "MeST"):
        return 4
    if value.startswith("GMT"):
        return 3 + _signed_offset_length(value[3:])
    if value[0] in "+-":
        return _signed_offset_length(value) or None
    upper = 0
    while upper < min(6, len(value)) and "A" <= value[upper] <= "Z":
        upper += 1
    if upper == 3:
        return 3
    if upper == 4 and (value[3] == "T" or value[:4] == "WITA"):
        return 4
    if upper == 5 and value[4] == "T":
        return 5
    return None


_PARSERS = {
    "year2": _p_year2,
    "year4": _p_year4,
    "month_short": _p_month_name,
    "month_long": _p_month_name,
    "month_num": _p_month_num,
    "month_zero": _p_month_num,
    "weekday_short": _p_weekday,
    "weekday_long": _p_weekday,
    "day_num": _p_day,
    "day_under": _p_day,
    "day_zero": _p_day,
    "yday_under": _p_yday,
    "yday_zero": _p_yday,
    "hour24": _p_hour,
    "hour12": _p_hour,
    "hour12_zero": _p_hour,
    "minute_num": _p_minute,
    "minute_zero": _p_minute,
    "second_num": _p_second,
    "second_zero": _p_second,
    "PM": _p_ampm,
    "pm": _p_ampm,
    "offset": _p_offset,
    "zone_name": _p_zone_name,
    "frac0": _p_frac0,
    "frac9": _p_frac9,
}


def _cannot_parse(layout: str, value: str, layout_elem: str, value_elem: str) -> ActorError:
    return invalid(
        f"parsing time {_quote(value)} as {_quote(layout)}: "
        f"cannot parse {_quote(value_elem)} as {_quote(layout_elem)}"
    )


def _parse_failed(value: str, message: str) -> ActorError:
    return invalid(f"parsing time {_quote(value)}{message}")


def _resolve_month_day(st: _ParseState, value: str) -> None:
    """Turn a day of year into month and day, check it agrees, then validate the day."""
    if st.yday >= 0:
        yday, month, day = st.yday, 0, 0
        if _is_leap(st.year):
            if yday == 31 + 29:
                month, day = 2, 29
            elif yday > 31 + 29:
                yday -= 1
        if not 1 <= yday <= 365:
            raise _parse_failed(value, ": day-of-year out of range")
        if month == 0:
            month = (yday - 1) // 31 + 1
            if _DAYS_BEFORE[month] < yday:
                month += 1
            day = yday - _DAYS_BEFORE[month - 1]
        if st.month >= 0 and st.month != month:
            raise _parse_failed(value, ": day-of-year does not match month")
        if st.day >= 0 and st.day != day:
            raise _parse_failed(value, ": day-of-year does not match day")
        st.month, st.day = month, day
    else:
        st.month = 1 if st.month < 0 else st.month
        st.day = 1 if st.day < 0 else st.day
    if not 1 <= st.day <= _days_in(st.month, st.year):
        raise _parse_failed(value, ": day out of range")


def _build_time(st: _ParseState, default_loc: Location, local: Location) -> GoTime:
    """The parsed instant and its location, as Go picks them.

    An explicit UTC marker wins; a numeric offset uses `local` if that zone has the same
    offset (and name) at that instant, else a fixed zone; a zone name alone uses `local`'s
    offset for it if `local` knows it, else a fixed zone with offset 0 (GMT+h excepted).
    """
    fields = (st.year, st.month, st.day, st.hour, st.minute, st.second, st.nsec)
    if st.zone is not None:
        return date(*fields, st.zone)
    if st.zone_offset is not None:
        t = date(*fields, UTC).add(-st.zone_offset * SECOND)
        name, offset = local.lookup(t.unix())
        if offset == st.zone_offset and st.zone_name in ("", name):
            return t.in_location(local)
        return t.in_location(fixed_zone(st.zone_name, st.zone_offset))
    if st.zone_name:
        t = date(*fields, UTC)
        named = local.lookup_name(st.zone_name, t.unix())
        if named is not None:
            return t.add(-named * SECOND).in_location(local)
        offset = 0
        if len(st.zone_name) > 3 and st.zone_name.startswith("GMT"):
            offset = _atoi(st.zone_name[3:]) * 3600
        return t.in_location(fixed_zone(st.zone_name, offset))
    return date(*fields, default_loc)


def parse(layout: str, value: str, loc: Location | None = None) -> GoTime:
    """Go `time.Parse` (loc None) or `time.ParseInLocation(layout, value, loc)`.

    Without a zone in the value the result is in UTC (or `loc`). A zone in the value is
    matched against Local (or `loc`). Elements missing from the layout default to
    year 0, January 1, 00:00:00. Failures raise `Invalid` with Go's message.
    """
    default_loc = UTC if loc is None else loc
    local = Local if loc is None else loc
    st = _ParseState()
    rest_layout, rest = layout, value
    while True:
        prefix, std, suffix = _next_chunk(rest_layout)
        std_text = rest_layout[len(prefix) : len(rest_layout) - len(suffix)]
        rest, ok = _skip(rest, prefix)
        if not ok:
            raise _cannot_parse(layout, value, prefix, rest)
        if std is None:
            if rest:
                raise _parse_failed(value, f": extra text: {_quote(rest)}")
            break
        rest_layout = suffix
        try:
            rest = _PARSERS[std.kind](st, rest, std, rest_layout)
        except _OutOfRange as exc:
            raise _parse_failed(value, f": {exc.args[0]} out of range") from None
        except _Bad:
            raise _cannot_parse(layout, value, std_text, rest) from None
    if st.pm and st.hour < 12:
        st.hour += 12
    elif st.am and st.hour == 12:
        st.hour = 0
    _resolve_month_day(st, value)
    return _build_time(st, default_loc, local)
