"""The `time` module (lua-api §6): the Python half. `time.lua` builds the module table and
the Lua methods of Time, Duration and Location values.

Values: a Time is a `gotime.GoTime`, a Duration a `gotime.Duration`, a Location a
`gotime.Location` (runtime objects registered by `lua_bindings.timevalues`, so they also
cross process boundaries as themselves). Timers, tickers and `time.after` deliver into plain
channels (`channels.Channel`, capacity 1) that `time.lua` wraps as Lua channel tables.

Clock and timer hooks
---------------------
The module never reads a clock or arms a timer itself: everything goes through the host's
*time source* (`ModuleHost.time_source`, protocol `lua_bindings.contract.TimeSource`). On a
local host it is `SchedulerTimeSource` (the wall clock for `time.now()`, the monotonic clock
and the Lua scheduler's timer heap for `sleep`, `after`, `timer` and `ticker`). A durable
workflow host (lua-api §6.5) provides its own, backed by workflow time and durable timers.
A deadline already past runs on the next scheduler turn, after the processes that are ready
now: this is how `time.sleep(0)` yields.

Timers and tickers check that their process is still alive before delivering, and a ticker
stops rescheduling itself once its process is gone.

Argument errors: functions documented as returning `value, err` (`parse`, `parse_duration`,
`load_location`, `after`, `timer`, `ticker`, and `sleep` for an invalid duration) return
`nil, err`; the others (`date`, `unix`, `fixed_zone`, the methods) raise the error.
"""

from __future__ import annotations

import functools
import time as _pytime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from actors.errors import ActorError, invalid
from corelib import gotime
from corelib.gotime import Duration, GoTime, Location
from lua_bindings import timevalues as _timevalues  # noqa: F401  (registers the value kinds)
from lua_bindings.channels import Channel
from lua_bindings.contract import (
    ModuleHost,
    Reply,
    TimeSource,
    awaitable,
    nil_on_error,
    reply,
)
from lua_bindings.convert import lua_type_name, text
from lua_bindings.modules import LuaModule
from lua_bindings.scheduler import Scheduler, Waiter

if TYPE_CHECKING:
    from lua_bindings.process import LuaProcess

Action = Waiter | Callable[[], None]


class SchedulerTimeSource:
    """The time source of ordinary processes: real clocks and the host scheduler's timers."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def now(self) -> GoTime:
        return gotime.now()

    def monotonic_ns(self) -> int:
        return _pytime.monotonic_ns()

    def call_at(self, deadline_ns: int, action: Action) -> Any:
        # Scheduler deadlines are `time.monotonic()` seconds: the same clock.
        return self.scheduler.call_at(deadline_ns / 1e9, action)

    def cancel(self, handle: Any) -> None:
        Scheduler.cancel_timer(handle)


# -- argument conversion ------------------------------------------------------------------------


def duration_arg(value: Any) -> int:
    """A duration argument (§6): nanoseconds (fraction truncated), a Go string, a Duration."""
    if type(value) is Duration:
        return value.ns
    if type(value) is bytes or type(value) is str:
        return gotime.parse_duration(text(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return gotime.parse_duration(value)
    raise invalid(
        f"time: invalid duration: expected a number, string or Duration, got {_type(value)}"
    )


def _duration_value(value: Any, what: str) -> int:
    """`round` / `truncate` take only a Duration value."""
    if type(value) is not Duration:
        raise invalid(f"time: {what} expects a Duration, got {_type(value)}")
    return value.ns


def _int(value: Any, what: str) -> int:
    """An integer argument; a float is truncated toward zero."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"time: {what} must be a number, got {_type(value)}")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise invalid(f"time: {what} must be a finite number")
        return int(value)
    return value


def _time(value: Any, what: str) -> GoTime:
    if type(value) is not GoTime:
        raise invalid(f"time: {what} expects a Time, got {_type(value)}")
    return value


def _location(value: Any, what: str) -> Location:
    if type(value) is not Location:
        raise invalid(f"time: {what} expects a Location, got {_type(value)}")
    return value


def _string(value: Any, what: str) -> str:
    if type(value) is not bytes and type(value) is not str:
        raise invalid(f"time: {what} must be a string, got {_type(value)}")
    return text(value)


def _type(value: Any) -> str:
    return lua_type_name(value)


def _positive(value: Any, what: str) -> int:
    ns = duration_arg(value)
    if ns <= 0:
        raise invalid(f"time: non-positive interval for {what}: {gotime.format_duration(ns)}")
    return ns


# Shapes of the answers (time.lua unpacks them):
# - `checked`: `true, values...` or `false, err` (time.lua raises the error);
# - `nil_on_error`: `values...` or `nil, err` (returned to Lua code as is).


def checked(fn: Callable[..., Any]) -> Callable[..., tuple[Any, ...]]:
    @functools.wraps(fn)
    def call(*args: Any) -> tuple[Any, ...]:
        try:
            result = fn(*args)
        except ActorError as exc:
            return False, exc.error
        return (True, *result) if type(result) is tuple else (True, result)

    return call


# -- timers -------------------------------------------------------------------------------------


class TimerState:
    """A one-shot timer (`time.timer`). `handle` is set while the timer is pending.

    It fires by putting the Time into its channel (capacity 1). `stop` leaves an expiry
    already delivered in the channel (so `if not t:stop() then t:channel():receive() end`
    works); `reset` discards such an unreceived stale expiry before re-arming.
    """

    __slots__ = ("channel", "handle", "process", "source")

    def __init__(self, source: TimeSource, process: LuaProcess) -> None:
        self.source = source
        self.process = process
        self.channel = Channel(1)
        self.handle: Any = None

    def arm(self, ns: int) -> None:
        self.handle = self.source.call_at(self.source.monotonic_ns() + ns, self._fire)

    def _fire(self) -> None:
        self.handle = None
        if self.process.alive:
            self.channel.try_send(self.source.now())

    def stop(self) -> bool:
        if self.handle is None:
            return False
        self.source.cancel(self.handle)
        self.handle = None
        return True

    def reset(self, ns: int) -> bool:
        pending = self.stop()
        self.channel.clear()
        self.arm(ns)
        return pending


class TickerState:
    """A repeating ticker (`time.ticker`). Ticks are due at start + k·period; a tick that
    finds the channel full is dropped, and a late ticker skips the ticks it missed."""

    __slots__ = ("channel", "deadline", "handle", "period", "process", "source")

    def __init__(self, source: TimeSource, process: LuaProcess, period: int) -> None:
        self.source = source
        self.process = process
        self.period = period
        self.channel = Channel(1)
        self.deadline = source.monotonic_ns() + period
        self.handle: Any = source.call_at(self.deadline, self._tick)

    def _tick(self) -> None:
        self.handle = None
        if not self.process.alive:
            return
        self.channel.try_send(self.source.now())  # False (dropped) when the buffer is full
        now = self.source.monotonic_ns()
        self.deadline += self.period
        if self.deadline <= now:
            self.deadline += self.period * ((now - self.deadline) // self.period + 1)
        self.handle = self.source.call_at(self.deadline, self._tick)

    def stop(self) -> bool:
        if self.handle is None:
            return False
        self.source.cancel(self.handle)
        self.handle = None
        return True


# -- the module ---------------------------------------------------------------------------------


class TimeFunctions:
    def __init__(self, host: ModuleHost) -> None:
        self.host = host

    @property
    def source(self) -> TimeSource:
        # Read at each use: the module is loaded while the host is being built, before a
        # workflow host has put its own time source in place.
        return self.host.time_source

    # -- constructors ------------------------------------------------------------------------

    def now(self) -> GoTime:
        return self.source.now()

    @staticmethod
    @checked
    def date(
        year: Any,
        month: Any,
        day: Any,
        hour: Any = 0,
        minute: Any = 0,
        second: Any = 0,
        nsec: Any = 0,
        loc: Any = None,
    ) -> GoTime:
        return gotime.date(
            _int(year, "year"),
            _int(month, "month"),
            _int(day, "day"),
            _int(hour if hour is not None else 0, "hour"),
            _int(minute if minute is not None else 0, "minute"),
            _int(second if second is not None else 0, "second"),
            _int(nsec if nsec is not None else 0, "nanosecond"),
            gotime.Local if loc is None else _location(loc, "date"),
        )

    @staticmethod
    @checked
    def unix(sec: Any, nsec: Any = 0) -> GoTime:
        return gotime.from_unix(_int(sec, "sec"), _int(nsec if nsec is not None else 0, "nsec"))

    @staticmethod
    @nil_on_error
    def parse(layout: Any, value: Any, loc: Any = None) -> GoTime:
        return gotime.parse(
            _string(layout, "layout"),
            _string(value, "value"),
            None if loc is None else _location(loc, "parse"),
        )

    @staticmethod
    @nil_on_error
    def parse_duration(value: Any) -> Duration:
        return Duration(duration_arg(value))

    @staticmethod
    @nil_on_error
    def load_location(name: Any) -> Location:
        return gotime.load_location(_string(name, "location name"))

    @staticmethod
    @checked
    def fixed_zone(name: Any, offset: Any) -> Location:
        return gotime.fixed_zone(_string(name, "zone name"), _int(offset, "offset"))

    # -- blocking and timers -----------------------------------------------------------------

    @awaitable
    def sleep(self, d: Any) -> Reply:
        ns = duration_arg(d)
        waiter = self.host.park()
        self.source.call_at(self.source.monotonic_ns() + max(ns, 0), waiter)
        return reply.parked()

    @nil_on_error
    def after(self, d: Any) -> Channel:
        ns = _positive(d, "time.after")
        process = self.host.current
        channel = Channel(1)
        source = self.source

        def fire() -> None:
            if process.alive:
                channel.try_send(source.now())

        source.call_at(source.monotonic_ns() + ns, fire)
        return channel

    @nil_on_error
    def timer(self, d: Any) -> tuple[TimerState, Channel]:
        ns = _positive(d, "time.timer")
        state = TimerState(self.source, self.host.current)
        state.arm(ns)
        return state, state.channel

    @staticmethod
    def timer_stop(state: TimerState) -> bool:
        return state.stop()

    @staticmethod
    @checked
    def timer_reset(state: TimerState, d: Any) -> bool:
        # Go: a non-positive duration makes the timer expire at once.
        return state.reset(max(duration_arg(d), 0))

    @nil_on_error
    def ticker(self, d: Any) -> tuple[TickerState, Channel]:
        ns = _positive(d, "time.ticker")
        state = TickerState(self.source, self.host.current, ns)
        return state, state.channel

    @staticmethod
    def ticker_stop(state: TickerState) -> bool:
        return state.stop()


# -- methods (METHODS.time / .duration / .location in time.lua) --------------------------------


@checked
def t_add(t: GoTime, d: Any) -> GoTime:
    return _time(t, "add").add(duration_arg(d))


@checked
def t_sub(t: GoTime, u: Any) -> Duration:
    return Duration(_time(t, "sub").sub(_time(u, "sub")))


@checked
def t_add_date(t: GoTime, years: Any, months: Any, days: Any) -> GoTime:
    return _time(t, "add_date").add_date(
        _int(years, "years"), _int(months, "months"), _int(days, "days")
    )


@checked
def t_before(t: GoTime, u: Any) -> bool:
    return _time(t, "before").before(_time(u, "before"))


@checked
def t_after(t: GoTime, u: Any) -> bool:
    return _time(t, "after").after(_time(u, "after"))


@checked
def t_equal(t: GoTime, u: Any) -> bool:
    return _time(t, "equal").equal(_time(u, "equal"))


@checked
def t_format(t: GoTime, layout: Any) -> bytes:
    return _encode(_time(t, "format").format(_string(layout, "layout")))


@checked
def t_in_location(t: GoTime, loc: Any) -> GoTime:
    return _time(t, "in_location").in_location(_location(loc, "in_location"))


@checked
def t_round(t: GoTime, d: Any) -> GoTime:
    return _time(t, "round").round(_duration_value(d, "round"))


@checked
def t_truncate(t: GoTime, d: Any) -> GoTime:
    return _time(t, "truncate").truncate(_duration_value(d, "truncate"))


def t_format_rfc3339(t: GoTime) -> bytes:
    return _encode(t.format_rfc3339())


def t_zone(t: GoTime) -> tuple[bytes, int]:
    name, offset = t.zone()
    return _encode(name), offset


def _encode(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


_TIME_GETTERS = (
    "unix",
    "unix_nano",
    "date",
    "clock",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "nanosecond",
    "weekday",
    "year_day",
    "is_zero",
    "utc",
    "in_local",
    "location",
)

_DURATION_METHODS = {
    "hours": gotime.duration_hours,
    "minutes": gotime.duration_minutes,
    "seconds": gotime.duration_seconds,
    "milliseconds": gotime.duration_milliseconds,
    "microseconds": gotime.duration_microseconds,
    "nanoseconds": lambda ns: ns,
}


def _duration_method(fn: Callable[[int], Any]) -> Callable[[Duration], Any]:
    return lambda d: fn(d.ns)


def _constants() -> dict[str, Any]:
    months = [
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
    ]
    weekdays = ["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"]
    return {
        "NANOSECOND": gotime.NANOSECOND,
        "MICROSECOND": gotime.MICROSECOND,
        "MILLISECOND": gotime.MILLISECOND,
        "SECOND": gotime.SECOND,
        "MINUTE": gotime.MINUTE,
        "HOUR": gotime.HOUR,
        **gotime.LAYOUTS,
        **{name: i for i, name in enumerate(months, start=1)},
        **{name: i for i, name in enumerate(weekdays)},
        "utc": gotime.UTC,
        "localtz": gotime.Local,
    }


def _functions(host: ModuleHost) -> dict[str, Any]:
    fns = TimeFunctions(host)
    table: dict[str, Any] = {
        name: getattr(fns, name)
        for name in (
            "now",
            "date",
            "unix",
            "parse",
            "parse_duration",
            "load_location",
            "fixed_zone",
            "sleep",
            "after",
            "timer",
            "timer_stop",
            "timer_reset",
            "ticker",
            "ticker_stop",
        )
    }
    table.update(
        t_add=t_add,
        t_sub=t_sub,
        t_add_date=t_add_date,
        t_before=t_before,
        t_after=t_after,
        t_equal=t_equal,
        t_format=t_format,
        t_format_rfc3339=t_format_rfc3339,
        t_in_location=t_in_location,
        t_round=t_round,
        t_truncate=t_truncate,
        t_zone=t_zone,
        l_string=lambda loc: _encode(str(loc)),
    )
    for name in _TIME_GETTERS:
        table["t_" + name] = getattr(GoTime, name)
    for name, fn in _DURATION_METHODS.items():
        table["d_" + name] = _duration_method(fn)
    table["time_getters"] = list(_TIME_GETTERS)
    table["duration_methods"] = list(_DURATION_METHODS)
    table["constants"] = _constants()
    return table


MODULE = LuaModule("time", _functions)
