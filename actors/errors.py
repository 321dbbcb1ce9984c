"""Structured errors shared by every host.

An error that crosses a process boundary (an EXIT result, a message, a function result) must
keep its kind, message, retryable flag and details, so errors are plain data (`Error`) rather
than Python exception classes. `ActorError` is the exception that carries one through Python
code.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

UNKNOWN = ""
INVALID = "Invalid"
NOT_FOUND = "NotFound"
ALREADY_EXISTS = "AlreadyExists"
PERMISSION_DENIED = "PermissionDenied"
TIMEOUT = "Timeout"
CANCELED = "Canceled"
UNAVAILABLE = "Unavailable"
INTERNAL = "Internal"
CONFLICT = "Conflict"
RATE_LIMITED = "RateLimited"

KINDS: dict[str, str] = {
    "UNKNOWN": UNKNOWN,
    "INVALID": INVALID,
    "NOT_FOUND": NOT_FOUND,
    "ALREADY_EXISTS": ALREADY_EXISTS,
    "PERMISSION_DENIED": PERMISSION_DENIED,
    "TIMEOUT": TIMEOUT,
    "CANCELED": CANCELED,
    "UNAVAILABLE": UNAVAILABLE,
    "INTERNAL": INTERNAL,
    "CONFLICT": CONFLICT,
    "RATE_LIMITED": RATE_LIMITED,
}


@attrs.frozen
class Error:
    """An error value: what a failed process, call or operation reports.

    `retryable` is tri-state (True, False, None = unknown) because Lua code distinguishes an
    explicit `false` from "not said". `context` holds `errors.wrap` prefixes, outermost first;
    they show in `str()` but never change `message`.
    """

    message: str
    kind: str = UNKNOWN
    retryable: bool | None = None
    details: dict[str, Any] | None = None
    stack: str = ""
    context: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "".join(f"{c}: " for c in self.context) + self.message

    def wrap(self, context: str) -> Error:
        return attrs.evolve(self, context=(context, *self.context))

    def to_dict(self) -> dict[str, Any]:
        """The wire form (msgpack / JSON friendly)."""
        out: dict[str, Any] = {"message": self.message, "kind": self.kind}
        if self.retryable is not None:
            out["retryable"] = self.retryable
        if self.details:
            out["details"] = self.details
        if self.stack:
            out["stack"] = self.stack
        if self.context:
            out["context"] = list(self.context)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Error:
        return cls(
            message=str(data.get("message", "")),
            kind=str(data.get("kind", UNKNOWN)),
            retryable=data.get("retryable"),
            details=data.get("details") or None,
            stack=str(data.get("stack", "")),
            context=tuple(data.get("context", ())),
        )


class ActorError(Exception):
    """Raised by runtime operations; carries the structured `Error` callers report.

    Catch by kind with the subclasses (`except NotFoundError`); raise with a message
    (`raise InvalidError("topic cannot be empty")`) or with an `Error` that came in as data
    (`raise ActorError.of(event.error)` picks the subclass of its kind). What crosses a
    process boundary is always `.error`, the data form: pickling keeps it whole.
    """

    KIND: ClassVar[str] = UNKNOWN

    def __init__(
        self, error: Error | str, *, retryable: bool | None = False, **details: Any
    ) -> None:
        if not isinstance(error, Error):
            error = Error(str(error), self.KIND, retryable, details or None)
        super().__init__(str(error))
        self.error = error

    @property
    def kind(self) -> str:
        return self.error.kind

    @staticmethod
    def of(error: Error) -> ActorError:
        """The exception of `error`'s kind carrying it (an `ActorError` for other kinds)."""
        return _BY_KIND.get(error.kind, ActorError)(error)

    def __reduce__(self) -> tuple[Any, ...]:
        return ActorError.of, (self.error,)


class InvalidError(ActorError):
    KIND = INVALID


class NotFoundError(ActorError):
    KIND = NOT_FOUND


class AlreadyExistsError(ActorError):
    KIND = ALREADY_EXISTS


class PermissionDeniedError(ActorError):
    KIND = PERMISSION_DENIED


class TimedOutError(ActorError):
    """Kind `Timeout` (named so that it does not shadow the builtin `TimeoutError`)."""

    KIND = TIMEOUT


class CanceledError(ActorError):
    KIND = CANCELED


class UnavailableError(ActorError):
    KIND = UNAVAILABLE


class InternalError(ActorError):
    KIND = INTERNAL


class ConflictError(ActorError):
    KIND = CONFLICT


class RateLimitedError(ActorError):
    KIND = RATE_LIMITED


_BY_KIND: dict[str, type[ActorError]] = {
    cls.KIND: cls
    for cls in (
        InvalidError,
        NotFoundError,
        AlreadyExistsError,
        PermissionDeniedError,
        TimedOutError,
        CanceledError,
        UnavailableError,
        InternalError,
        ConflictError,
        RateLimitedError,
    )
}


def error(kind: str, message: str, *, retryable: bool | None = False, **details: Any) -> ActorError:
    """Build the exception of `kind` in one call: `raise error(NOT_FOUND, "... not found")`."""
    return ActorError.of(Error(message, kind, retryable, details or None))


def invalid(message: str) -> ActorError:
    return InvalidError(message)


def not_found(message: str) -> ActorError:
    return NotFoundError(message)


def process_not_found(pid: object) -> ActorError:
    """The one error for a dead or unknown PID; its text contains "not found" as callers
    search for it (lua-api §4.1)."""
    return not_found(f"process not found: {pid}")


def as_error(exc: BaseException) -> Error:
    """The `Error` an exception reports: its own for an `ActorError`, else `Internal`
    naming the exception's type."""
    if isinstance(exc, ActorError):
        return exc.error
    return Error(f"{type(exc).__name__}: {exc}", INTERNAL, False)


def sole_exception(group: BaseExceptionGroup) -> BaseException:
    """The one exception inside nested single-member groups, else the group itself: what a
    task group raised, as the caller would have seen it without one."""
    while len(group.exceptions) == 1:
        inner = group.exceptions[0]
        if not isinstance(inner, BaseExceptionGroup):
            return inner
        group = inner
    return group
