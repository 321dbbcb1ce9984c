"""Structured errors shared by every host.

An error that crosses a process boundary (an EXIT result, a message, a function result) must
keep its kind, message, retryable flag and details, so errors are plain data (`Error`) rather
than Python exception classes. `ActorError` is the exception that carries one through Python
code.
"""

from __future__ import annotations

from typing import Any

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
    """Raised by runtime operations; carries the structured `Error` callers report."""

    def __init__(self, error: Error) -> None:
        super().__init__(str(error))
        self.error = error

    @property
    def kind(self) -> str:
        return self.error.kind


def error(kind: str, message: str, *, retryable: bool | None = False, **details: Any) -> ActorError:
    """Build an `ActorError` in one call: `raise error(NOT_FOUND, "process not found: ...")`."""
    return ActorError(Error(message, kind, retryable, details or None))


def invalid(message: str) -> ActorError:
    return error(INVALID, message)


def not_found(message: str) -> ActorError:
    return error(NOT_FOUND, message)


def process_not_found(pid: object) -> ActorError:
    """The one error for a dead or unknown PID; its text contains "not found" as callers
    search for it (lua-api §4.1)."""
    return not_found(f"process not found: {pid}")


def sole_exception(group: BaseExceptionGroup) -> BaseException:
    """The one exception inside nested single-member groups, else the group itself: what a
    task group raised, as the caller would have seen it without one."""
    while len(group.exceptions) == 1:
        inner = group.exceptions[0]
        if not isinstance(inner, BaseExceptionGroup):
            return inner
        group = inner
    return group
