"""Time, Duration and Location as runtime values: Lua kinds and msgpack extensions.

Importing this module (the `time` module does; the Lua host should too, because lifecycle
events carry an `at` Time even in processes that never `require("time")`) makes
`GoTime`, `Duration` and `Location`:
- Lua runtime objects of kinds `"time"`, `"duration"` and `"location"` (their Lua methods are
  `rt.METHODS.<kind>`, defined by `modules/time.lua`);
- sendable: they cross a process boundary (message, spawn argument, result) as the same
  kind of value, through msgpack extension codes 2 (Time), 3 (Duration), 4 (Location).

Wire forms (plain msgpack data inside the extension):
- Duration: its nanoseconds (int64);
- Time: `[seconds, nanoseconds, location]`, seconds floored so nanoseconds are in [0, 1e9);
- Location: `[name, offset_seconds, zone_key]`. `zone_key` is None for fixed zones (UTC,
  `fixed_zone`); the local location travels by name ("Local") and is the receiver's Local.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from actors.values import register_ext
from corelib.gotime import SECOND, UTC, Duration, GoTime, Local, Location
from lua_bindings.convert import lua_kind

TIME_CODE = 2
DURATION_CODE = 3
LOCATION_CODE = 4


def pack_location(loc: Location) -> list[Any]:
    if loc is Local:
        return ["Local", 0, "Local"]
    key = None
    if loc.zone is not None:
        key = getattr(loc.zone, "key", None) or loc.name
    return [loc.name, loc.offset, key]


def unpack_location(data: list[Any]) -> Location:
    name, offset, key = data
    if key is None:
        if name == "UTC" and offset == 0:
            return UTC
        return Location(name, offset=offset)
    if key == "Local":
        return Local
    try:
        return Location(name, zone=ZoneInfo(key))
    except (OSError, ValueError, KeyError):
        # The receiving node lacks that zone: keep the name, fall back to UTC offsets.
        return Location(name)


def pack_time(t: GoTime) -> list[Any]:
    sec, nsec = divmod(t.unix_ns, SECOND)
    return [sec, nsec, t.loc]


def unpack_time(data: list[Any]) -> GoTime:
    sec, nsec, loc = data
    if not isinstance(loc, Location):
        loc = UTC
    return GoTime(sec * SECOND + nsec, loc)


lua_kind(GoTime, "time", sendable=True)
lua_kind(Duration, "duration", sendable=True)
lua_kind(Location, "location", sendable=True)

register_ext(GoTime, TIME_CODE, pack_time, unpack_time)
register_ext(Duration, DURATION_CODE, lambda d: d.ns, Duration)
register_ext(Location, LOCATION_CODE, pack_location, unpack_location)
