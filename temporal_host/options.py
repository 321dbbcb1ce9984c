"""Temporal start and activity options (temporal.md §3.5, §9.2, §9.3): the one option table.

Lua code passes options as a flat table (`["workflow.id"] = "x"`, or the legacy
`["temporal.workflow.id"]`). Legacy keys are normalised to canonical ones before sources are
merged, so a later source always wins whatever spelling it uses. Durations are strings
(`"5s"`) or numbers of **milliseconds**. Enums are case-insensitive, `-` reads as `_`, the
Temporal prefix is optional and the enum's integer is accepted. A wrongly typed option is an
`Invalid` error naming the key.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

import attrs
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.workflow import ParentClosePolicy

from actors.errors import invalid
from corelib import gotime

E = TypeVar("E", bound=enum.Enum)

LEGACY_PREFIXES = {"temporal.workflow.": "workflow.", "temporal.activity.": "activity."}
LEGACY_ALIASES = {
    "workflow.typed_search_attributes": "workflow.search_attributes",
    "workflow.static_summary": "workflow.summary",
    "workflow.static_details": "workflow.details",
}


def normalise(options: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical spellings; when both spellings are present the canonical one wins."""
    out: dict[str, Any] = {}
    legacy: dict[str, Any] = {}
    for key, value in options.items():
        canonical = key
        for old, new in LEGACY_PREFIXES.items():
            if key.startswith(old):
                canonical = new + key[len(old) :]
        canonical = LEGACY_ALIASES.get(canonical, canonical)
        (legacy if canonical != key else out)[canonical] = value
    return {**legacy, **out}


def merge(*sources: Mapping[str, Any] | None) -> dict[str, Any]:
    """Shallow merge, later sources winning per key, each normalised first."""
    merged: dict[str, Any] = {}
    for source in sources:
        if source:
            merged.update(normalise(source))
    return merged


# -- value parsers --------------------------------------------------------------------------


def duration(key: str, value: Any) -> timedelta:
    if isinstance(value, bool):
        raise invalid(f"{key}: expected a duration, got a boolean")
    if isinstance(value, int | float):
        return timedelta(milliseconds=value)
    if isinstance(value, str):
        try:
            return timedelta(microseconds=gotime.parse_duration(value) / 1000)
        except Exception as exc:
            raise invalid(f"{key}: invalid duration {value!r}") from exc
    raise invalid(f"{key}: expected a duration (string or milliseconds)")


def string(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise invalid(f"{key}: expected a non-empty string")
    return value


def boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(f"{key}: expected a boolean")
    return value


def table(key: str, value: Any) -> dict[str, Any]:
    if value == []:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"{key}: expected a table")
    return value


def enum_value(enum_cls: type[E], prefix: str) -> Callable[[str, Any], E]:
    def parse(key: str, value: Any) -> E:
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return enum_cls(value)
            except ValueError:
                pass
        elif isinstance(value, str):
            name = value.strip().upper().replace("-", "_")
            if name.startswith(prefix):
                name = name[len(prefix) :]
            if name in enum_cls.__members__:
                return enum_cls[name]
        choices = ", ".join(m.lower() for m in enum_cls.__members__ if m != "UNSPECIFIED")
        raise invalid(f"{key}: invalid value {value!r} (expected one of {choices})")

    return parse


def retry_policy(key: str, value: Any) -> RetryPolicy:
    """The retry-policy table; field names snake_case or camelCase, any case."""
    fields = {k.replace("_", "").lower(): v for k, v in table(key, value).items()}
    known = {
        "initialinterval",
        "backoffcoefficient",
        "maximuminterval",
        "maximumattempts",
        "nonretryableerrortypes",
    }
    unknown = set(fields) - known
    if unknown:
        raise invalid(f"{key}: unknown retry policy field(s): {', '.join(sorted(unknown))}")
    policy = RetryPolicy()
    if "initialinterval" in fields:
        policy.initial_interval = duration(key + ".initial_interval", fields["initialinterval"])
    if "backoffcoefficient" in fields:
        coefficient = fields["backoffcoefficient"]
        if isinstance(coefficient, bool) or not isinstance(coefficient, int | float):
            raise invalid(f"{key}.backoff_coefficient: expected a number")
        policy.backoff_coefficient = float(coefficient)
    if "maximuminterval" in fields:
        policy.maximum_interval = duration(key + ".maximum_interval", fields["maximuminterval"])
    if "maximumattempts" in fields:
        attempts = fields["maximumattempts"]
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
            raise invalid(f"{key}.maximum_attempts: expected a non-negative integer")
        policy.maximum_attempts = attempts
    if "nonretryableerrortypes" in fields:
        kinds = fields["nonretryableerrortypes"]
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise invalid(f"{key}.non_retryable_error_types: expected an array of strings")
        policy.non_retryable_error_types = kinds
    return policy


DEFAULT_ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=5,
)
"""temporal.md §9.4: bounded, unlike Temporal's unlimited default."""


conflict_policy = enum_value(WorkflowIDConflictPolicy, "WORKFLOW_ID_CONFLICT_POLICY_")
reuse_policy = enum_value(WorkflowIDReusePolicy, "WORKFLOW_ID_REUSE_POLICY_")
parent_close_policy = enum_value(ParentClosePolicy, "PARENT_CLOSE_POLICY_")


# -- the option table -----------------------------------------------------------------------

START_ONLY = frozenset({"enable_eager_start", "start_delay", "versioning_override"})
CHILD_ONLY = frozenset(
    {"namespace", "wait_for_cancellation", "parent_close_policy", "versioning_intent"}
)

WORKFLOW_OPTIONS: dict[str, Callable[[str, Any], Any]] = {
    "id": string,
    "task_queue": string,
    "execution_timeout": duration,
    "run_timeout": duration,
    "task_timeout": duration,
    "id_conflict_policy": conflict_policy,
    "id_reuse_policy": reuse_policy,
    "execution_error_when_already_started": boolean,
    "retry_policy": retry_policy,
    "cron_schedule": string,
    "memo": table,
    "search_attributes": table,
    "enable_eager_start": boolean,
    "start_delay": duration,
    "summary": string,
    "details": string,
    "versioning_override": lambda key, value: value,
    "priority": table,
    "namespace": string,
    "wait_for_cancellation": boolean,
    "parent_close_policy": parent_close_policy,
    "versioning_intent": string,
}

ACTIVITY_OPTIONS: dict[str, Callable[[str, Any], Any]] = {
    "start_to_close_timeout": duration,
    "schedule_to_close_timeout": duration,
    "schedule_to_start_timeout": duration,
    "heartbeat_timeout": duration,
    "id": string,
    "task_queue": string,
    "wait_for_cancellation": boolean,
    "disable_eager_execution": boolean,
    "retry_policy": retry_policy,
    "versioning_intent": string,
    "summary": string,
    "priority": table,
}


def _parse(
    options: Mapping[str, Any], prefix: str, table_: Mapping[str, Callable[[str, Any], Any]]
) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, value in normalise(options).items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        parser = table_.get(name)
        if parser is None:
            raise invalid(f"unknown option {key}")
        parsed[name] = parser(key, value)
    return parsed


@attrs.frozen
class WorkflowOptions:
    """Parsed `workflow.*` options; `values` maps option names (without prefix) to values."""

    values: dict[str, Any]

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None, *, child: bool = False) -> WorkflowOptions:
        values = _parse(options or {}, "workflow.", WORKFLOW_OPTIONS)
        excluded = START_ONLY if child else CHILD_ONLY
        return cls({k: v for k, v in values.items() if k not in excluded})

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def conflict_policy(self, explicit_id: bool) -> WorkflowIDConflictPolicy:
        """§3.2 step 4: named or explicit IDs default to use_existing; the
        error-when-already-started flag, when true, wins (becomes fail)."""
        if self.values.get("execution_error_when_already_started") is True:
            return WorkflowIDConflictPolicy.FAIL
        policy = self.values.get("id_conflict_policy")
        if policy is not None:
            return policy
        if "execution_error_when_already_started" in self.values:
            return WorkflowIDConflictPolicy.USE_EXISTING
        return (
            WorkflowIDConflictPolicy.USE_EXISTING if explicit_id else WorkflowIDConflictPolicy.FAIL
        )


@attrs.frozen
class ActivityOptions:
    values: dict[str, Any]

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None) -> ActivityOptions:
        return cls(_parse(options or {}, "activity.", ACTIVITY_OPTIONS))

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)
