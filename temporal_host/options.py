"""The Temporal option schema (temporal.md §1.2, §3.5, §9.2, §9.3): parsed once, translated once.

Lua code passes options as a flat table (`["workflow.id"] = "x"`, or the legacy
`["temporal.workflow.id"]`); a `temporal.worker` entry has a `worker_options` mapping. Each
family is one attrs class, structured by `cattrs` from the plain values, and each class owns
its translation to the SDK's keyword arguments:

    WorkflowOptions.parse(...).start_arguments()     # Client.start_workflow
    WorkflowOptions.parse(...).child_arguments(...)  # workflow.start_child_workflow
    ActivityOptions.parse(...).activity_arguments()  # workflow.start_activity / local
    WorkerOptions.parse(...).worker_arguments()      # temporalio.worker.Worker

Legacy keys are normalised to canonical ones before sources are merged, so a later source
always wins whatever spelling it uses. Durations are strings (`"5s"`) or numbers of
**milliseconds**. Enums are case-insensitive, `-` reads as `_`, the Temporal prefix is
optional and the enum's integer is accepted. A wrongly typed or unknown option is an
`Invalid` error naming the key (`workflow.execution_timeout: invalid duration 'soon'`).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, NewType, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError
from temporalio.common import (
    AutoUpgradeVersioningOverride,
    PinnedVersioningOverride,
    Priority,
    RetryPolicy,
    VersioningBehavior,
    VersioningOverride,
    WorkerDeploymentVersion,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.worker import WorkerDeploymentConfig
from temporalio.workflow import (
    ActivityCancellationType,
    ChildWorkflowCancellationType,
    ParentClosePolicy,
    VersioningIntent,
)

from actors.errors import invalid
from corelib import gotime
from temporal_host import search

log = logging.getLogger(__name__)

LEGACY_PREFIXES = {"temporal.workflow.": "workflow.", "temporal.activity.": "activity."}
LEGACY_ALIASES = {
    "workflow.typed_search_attributes": "workflow.search_attributes",
    "workflow.static_summary": "workflow.summary",
    "workflow.static_details": "workflow.details",
}

DEFAULT_START_TO_CLOSE = timedelta(minutes=10)

DEFAULT_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
"""How long an activity may go without a heartbeat before Temporal retries it elsewhere. The
runtime heartbeats on the Lua code's behalf while it runs (a third of this interval), so
only a dead worker misses it: its activities are retried within seconds, not after the
10-minute start-to-close timeout (issue 12 item 9). `activity.heartbeat_timeout` (per call
or in the entry's `meta.options`) and `worker_options.default_activity_heartbeat_timeout`
change it; 0 turns heartbeats off."""

DEFAULT_ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=5,
)
"""temporal.md §9.4: bounded, unlike Temporal's unlimited default."""


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


# -- value types and their parsers ------------------------------------------------------------
#
# Each parser takes the plain value and raises ValueError with a message for people; `_structure`
# prefixes it with the option's key.

Table = NewType("Table", dict)
Count = NewType("Count", int)
"""A non-negative integer."""
Pollers = NewType("Pollers", int)
"""A poller count: non-negative, and not 1 (the SDK needs two to poll sticky and normal)."""
Rate = NewType("Rate", float)
"""A non-negative number; 0 means unset."""
Text = NewType("Text", str)
"""Any string (empty means unset), unlike `str` fields, which must be non-empty."""


def _duration(value: Any) -> timedelta:
    if isinstance(value, bool):
        raise ValueError("expected a duration, got a boolean")
    if isinstance(value, int | float):
        return timedelta(milliseconds=value)
    if isinstance(value, str):
        try:
            return timedelta(microseconds=gotime.parse_duration(value) / 1000)
        except Exception:
            raise ValueError(f"invalid duration {value!r}") from None
    raise ValueError("expected a duration (string or milliseconds)")


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected a boolean")
    return value


def _table(value: Any) -> dict[str, Any]:
    if value == []:
        return {}
    if not isinstance(value, dict):
        raise ValueError("expected a table")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a non-negative integer")
    return value


def _pollers(value: Any) -> int:
    if _count(value) == 1:
        raise ValueError("1 is not allowed (use 2 or more)")
    return value


def _rate(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError("expected a non-negative number")
    return float(value) or None


E = TypeVar("E", bound=enum.Enum)


def enum_value(enum_cls: type[E], prefix: str) -> Callable[[Any], E]:
    def parse(value: Any) -> E:
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
        raise ValueError(f"invalid value {value!r} (expected one of {choices})")

    return parse


_RETRY_FIELDS = {
    "initialinterval": "initial_interval",
    "backoffcoefficient": "backoff_coefficient",
    "maximuminterval": "maximum_interval",
    "maximumattempts": "maximum_attempts",
    "nonretryableerrortypes": "non_retryable_error_types",
}


def _retry_policy(value: Any) -> RetryPolicy:
    """The retry-policy table (§9.3); field names snake_case or camelCase, any case."""
    fields = {k.replace("_", "").lower(): v for k, v in _table(value).items()}
    unknown = set(fields) - set(_RETRY_FIELDS)
    if unknown:
        raise ValueError(f"unknown retry policy field(s): {', '.join(sorted(unknown))}")
    named = {_RETRY_FIELDS[k]: v for k, v in fields.items()}
    policy = RetryPolicy()
    for name, parse in (
        ("initial_interval", _duration),
        ("maximum_interval", _duration),
        ("backoff_coefficient", _number),
        ("maximum_attempts", _count),
        ("non_retryable_error_types", _strings),
    ):
        if name in named:
            try:
                setattr(policy, name, parse(named[name]))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
    return policy


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    return float(value)


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise ValueError("expected an array of strings")
    return value


def _priority(value: Any) -> Priority:
    """`{priority_key, fairness_key, fairness_weight}`."""
    table = _table(value)
    unknown = set(table) - {"priority_key", "fairness_key", "fairness_weight"}
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    level, key, weight = (table.get(k) for k in ("priority_key", "fairness_key", "fairness_weight"))
    if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
        raise ValueError("priority_key: expected an integer")
    if key is not None and not isinstance(key, str):
        raise ValueError("fairness_key: expected a string")
    return Priority(
        priority_key=level,
        fairness_key=key,
        fairness_weight=_number(weight) if weight is not None else None,
    )


def _versioning_override(value: Any) -> VersioningOverride:
    """`"auto_upgrade"` or `{mode = "pinned", version = {deployment_name, build_id}}`."""
    if isinstance(value, str) and value.lower().replace("-", "_") == "auto_upgrade":
        return AutoUpgradeVersioningOverride()
    if isinstance(value, dict) and str(value.get("mode", "")).lower() == "pinned":
        version = value.get("version")
        if isinstance(version, dict):
            name, build = version.get("deployment_name"), version.get("build_id")
            if isinstance(name, str) and name and isinstance(build, str) and build:
                return PinnedVersioningOverride(WorkerDeploymentVersion(name, build))
    raise ValueError(
        'expected "auto_upgrade" or '
        '{mode = "pinned", version = {deployment_name = ..., build_id = ...}}'
    )


def _versioning_intent(value: Any) -> VersioningIntent:
    name = str(value).strip().upper()
    if name not in VersioningIntent.__members__:
        raise ValueError(f"expected compatible or default, got {value!r}")
    return VersioningIntent[name]


_converter = cattrs.Converter(forbid_extra_keys=True)
for _type, _parse in (
    (timedelta, _duration),
    (str, _string),
    (bool, _boolean),
    (Table, _table),
    (Count, _count),
    (Pollers, _pollers),
    (Rate, _rate),
    (Text, _text),
    (RetryPolicy, _retry_policy),
    (Priority, _priority),
    (VersioningOverride, _versioning_override),
    (VersioningIntent, _versioning_intent),
    (
        WorkflowIDConflictPolicy,
        enum_value(WorkflowIDConflictPolicy, "WORKFLOW_ID_CONFLICT_POLICY_"),
    ),
    (WorkflowIDReusePolicy, enum_value(WorkflowIDReusePolicy, "WORKFLOW_ID_REUSE_POLICY_")),
    (ParentClosePolicy, enum_value(ParentClosePolicy, "PARENT_CLOSE_POLICY_")),
    (VersioningBehavior, enum_value(VersioningBehavior, "VERSIONING_BEHAVIOR_")),
):
    _converter.register_structure_hook(_type, lambda value, _, parse=_parse: parse(value))

T = TypeVar("T")


def _structure(cls: type[T], values: Mapping[str, Any], prefix: str) -> T:
    """`values` (option names without `prefix`) as a `cls`; `Invalid` naming the first bad key."""
    try:
        return _converter.structure(dict(values), cls)
    except ClassValidationError as exc:
        raise invalid(_first_problem(exc, prefix)) from None


def _first_problem(group: ClassValidationError, prefix: str) -> str:
    for exc in group.exceptions:
        if isinstance(exc, ForbiddenExtraKeysError):
            return f"unknown option {prefix}{sorted(exc.extra_fields)[0]}"
        notes = [n for n in getattr(exc, "__notes__", []) if hasattr(n, "name")]
        name = notes[0].name if notes else "?"
        if isinstance(exc, ClassValidationError | ExceptionGroup):
            inner = exc.exceptions[0]
            return f"{prefix}{name}: {inner}"
        return f"{prefix}{name}: {exc}"
    return f"invalid {prefix.rstrip('.')} options"


def _scoped(options: Mapping[str, Any] | None, prefix: str) -> dict[str, Any]:
    """The normalised options under `prefix`, without it; keys of other families are ignored."""
    return {
        key[len(prefix) :]: value
        for key, value in normalise(options or {}).items()
        if key.startswith(prefix)
    }


def _present(instance: Any, names: Mapping[str, str]) -> dict[str, Any]:
    """`{sdk_name: value}` for the fields of `instance` listed in `names` that are set."""
    return {
        sdk: getattr(instance, name)
        for name, sdk in names.items()
        if getattr(instance, name) is not None
    }


# -- workflow start options (§3.5) ------------------------------------------------------------


@attrs.frozen
class WorkflowOptions:
    """`workflow.*` options of a spawn (a start from a local process, or a child start)."""

    id: str | None = None
    task_queue: str | None = None
    execution_timeout: timedelta | None = None
    run_timeout: timedelta | None = None
    task_timeout: timedelta | None = None
    id_conflict_policy: WorkflowIDConflictPolicy | None = None
    id_reuse_policy: WorkflowIDReusePolicy | None = None
    execution_error_when_already_started: bool | None = None
    retry_policy: RetryPolicy | None = None
    cron_schedule: str | None = None
    memo: Table | None = None
    search_attributes: Table | None = None
    summary: str | None = None
    details: str | None = None
    priority: Priority | None = None
    # start only
    enable_eager_start: bool | None = None
    start_delay: timedelta | None = None
    versioning_override: VersioningOverride | None = None
    # child workflows only
    namespace: str | None = None
    wait_for_cancellation: bool | None = None
    parent_close_policy: ParentClosePolicy | None = None
    versioning_intent: VersioningIntent | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None) -> WorkflowOptions:
        return _structure(cls, _scoped(options, "workflow."), "workflow.")

    def conflict_policy(self, explicit_id: bool) -> WorkflowIDConflictPolicy:
        """§3.2 step 4: named or explicit IDs default to use_existing; the
        error-when-already-started flag, when true, wins (becomes fail)."""
        if self.execution_error_when_already_started is True:
            return WorkflowIDConflictPolicy.FAIL
        if self.id_conflict_policy is not None:
            return self.id_conflict_policy
        if self.execution_error_when_already_started is not None or explicit_id:
            return WorkflowIDConflictPolicy.USE_EXISTING
        return WorkflowIDConflictPolicy.FAIL

    def _common(self) -> dict[str, Any]:
        """What starts and child starts share."""
        kwargs = _present(self, _COMMON)
        if self.search_attributes:
            kwargs["search_attributes"] = search.typed(
                "workflow.search_attributes", self.search_attributes
            )
        return kwargs

    def start_arguments(self) -> dict[str, Any]:
        """`Client.start_workflow` keyword arguments; the ID, task queue and conflict policy
        are decided by the host (§3.2)."""
        return {**self._common(), **_present(self, _START_ONLY)}

    def child_arguments(self, parent_namespace: str) -> dict[str, Any]:
        """`workflow.start_child_workflow` keyword arguments (without ID and task queue)."""
        if self.namespace is not None and self.namespace != parent_namespace:
            raise invalid(
                "workflow.namespace: child workflows in another namespace are not supported"
            )
        kwargs = {**self._common(), **_present(self, _CHILD_ONLY)}
        kwargs["cancellation_type"] = (
            ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED
            if self.wait_for_cancellation
            else ChildWorkflowCancellationType.TRY_CANCEL
        )
        return kwargs


_COMMON = {
    "execution_timeout": "execution_timeout",
    "run_timeout": "run_timeout",
    "task_timeout": "task_timeout",
    "id_reuse_policy": "id_reuse_policy",
    "retry_policy": "retry_policy",
    "cron_schedule": "cron_schedule",
    "memo": "memo",
    "summary": "static_summary",
    "details": "static_details",
    "priority": "priority",
}
_START_ONLY = {
    "enable_eager_start": "request_eager_start",
    "start_delay": "start_delay",
    "versioning_override": "versioning_override",
}
_CHILD_ONLY = {
    "parent_close_policy": "parent_close_policy",
    "versioning_intent": "versioning_intent",
}


# -- activity options (§9.2) --------------------------------------------------------------------


@attrs.frozen
class ActivityOptions:
    """`activity.*` options of a `funcs` call in a workflow (entry defaults + call site)."""

    start_to_close_timeout: timedelta | None = None
    schedule_to_close_timeout: timedelta | None = None
    schedule_to_start_timeout: timedelta | None = None
    heartbeat_timeout: timedelta | None = None
    id: str | None = None
    task_queue: str | None = None
    wait_for_cancellation: bool | None = None
    disable_eager_execution: bool | None = None
    retry_policy: RetryPolicy | None = None
    versioning_intent: VersioningIntent | None = None
    summary: str | None = None
    priority: Priority | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None) -> ActivityOptions:
        return _structure(cls, _scoped(options, "activity."), "activity.")

    def activity_arguments(
        self,
        default_retry: RetryPolicy,
        queue: Callable[[str], str],
        default_heartbeat: timedelta = DEFAULT_HEARTBEAT_TIMEOUT,
    ) -> dict[str, Any]:
        """`workflow.start_activity` keyword arguments; `queue` prefixes a task queue (§17)."""
        kwargs = self._local_and_remote(default_retry)
        kwargs.update(_present(self, _REMOTE_ONLY))
        heartbeat = default_heartbeat if self.heartbeat_timeout is None else self.heartbeat_timeout
        if heartbeat:
            kwargs["heartbeat_timeout"] = heartbeat
        if self.task_queue is not None:
            kwargs["task_queue"] = queue(self.task_queue)
        return kwargs

    def local_activity_arguments(self, default_retry: RetryPolicy) -> dict[str, Any]:
        """`workflow.start_local_activity` keyword arguments (§9.8)."""
        return self._local_and_remote(default_retry)

    def _local_and_remote(self, default_retry: RetryPolicy) -> dict[str, Any]:
        kwargs = _present(self, _LOCAL_AND_REMOTE)
        kwargs["start_to_close_timeout"] = self.start_to_close_timeout or DEFAULT_START_TO_CLOSE
        kwargs["retry_policy"] = self.retry_policy or default_retry
        kwargs["cancellation_type"] = (
            ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
            if self.wait_for_cancellation
            else ActivityCancellationType.TRY_CANCEL
        )
        return kwargs


_LOCAL_AND_REMOTE = {
    "schedule_to_close_timeout": "schedule_to_close_timeout",
    "schedule_to_start_timeout": "schedule_to_start_timeout",
    "id": "activity_id",
    "summary": "summary",
}
_REMOTE_ONLY = {
    "priority": "priority",
    "versioning_intent": "versioning_intent",
}


# -- worker options (§1.2) ----------------------------------------------------------------------


@attrs.frozen
class WorkerOptions:
    """A `temporal.worker` entry's `worker_options`. Zero rates and empty strings mean
    unset; keys the Python SDK cannot express are accepted and ignored with a warning."""

    identity: Text | None = None
    max_concurrent_activity_execution_size: Count | None = None
    max_concurrent_workflow_task_execution_size: Count | None = None
    max_concurrent_local_activity_execution_size: Count | None = None
    max_concurrent_activity_task_pollers: Count | None = None
    max_concurrent_workflow_task_pollers: Pollers | None = None
    worker_activities_per_second: Rate | None = None
    task_queue_activities_per_second: Rate | None = None
    sticky_schedule_to_start_timeout: timedelta | None = None
    worker_stop_timeout: timedelta | None = None
    max_heartbeat_throttle_interval: timedelta | None = None
    default_heartbeat_throttle_interval: timedelta | None = None
    disable_eager_activities: bool | None = None
    local_activity_worker_only: bool | None = None
    disable_workflow_worker: bool = False
    build_id: Text | None = None
    use_versioning: bool | None = None
    deployment_name: Text | None = None
    default_versioning_behavior: VersioningBehavior = VersioningBehavior.PINNED
    enable_logging_in_replay: bool = False
    default_activity_retry_policy: RetryPolicy = DEFAULT_ACTIVITY_RETRY
    default_activity_heartbeat_timeout: timedelta = DEFAULT_HEARTBEAT_TIMEOUT

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None) -> WorkerOptions:
        values = dict(options or {})
        for key in _IGNORED & values.keys():
            log.warning("worker_options.%s is not supported by the Python SDK; ignored", key)
            del values[key]
        parsed = _structure(cls, values, "worker_options.")
        if parsed.disable_workflow_worker and parsed.local_activity_worker_only:
            raise invalid(
                "worker_options: local_activity_worker_only conflicts with disable_workflow_worker"
            )
        if parsed.deployment_name and not parsed.build_id:
            raise invalid("worker_options.deployment_name needs a build_id")
        return parsed

    def worker_arguments(self) -> dict[str, Any]:
        """`Worker(...)` keyword arguments (without client, task queue, workflows...)."""
        kwargs = {sdk: value for sdk, value in _present(self, _WORKER).items() if value != ""}
        for name, sdk in _WORKER_FLAGS.items():
            if getattr(self, name) is not None:
                kwargs[sdk] = getattr(self, name)
        if self.deployment_name:
            kwargs.pop("build_id", None)
            kwargs["deployment_config"] = WorkerDeploymentConfig(
                version=WorkerDeploymentVersion(self.deployment_name, self.build_id or ""),
                use_worker_versioning=bool(kwargs.pop("use_worker_versioning", False)),
                default_versioning_behavior=self.default_versioning_behavior,
            )
        return kwargs


_WORKER = {
    "identity": "identity",
    "max_concurrent_activity_execution_size": "max_concurrent_activities",
    "max_concurrent_workflow_task_execution_size": "max_concurrent_workflow_tasks",
    "max_concurrent_local_activity_execution_size": "max_concurrent_local_activities",
    "max_concurrent_activity_task_pollers": "max_concurrent_activity_task_polls",
    "max_concurrent_workflow_task_pollers": "max_concurrent_workflow_task_polls",
    "worker_activities_per_second": "max_activities_per_second",
    "task_queue_activities_per_second": "max_task_queue_activities_per_second",
    "sticky_schedule_to_start_timeout": "sticky_queue_schedule_to_start_timeout",
    "worker_stop_timeout": "graceful_shutdown_timeout",
    "max_heartbeat_throttle_interval": "max_heartbeat_throttle_interval",
    "default_heartbeat_throttle_interval": "default_heartbeat_throttle_interval",
    "build_id": "build_id",
}
_WORKER_FLAGS = {
    "disable_eager_activities": "disable_eager_activity_execution",
    "local_activity_worker_only": "no_remote_activities",
    "use_versioning": "use_worker_versioning",
}
_IGNORED = frozenset(
    {
        "enable_session_worker",
        "max_concurrent_session_execution_size",
        "max_concurrent_eager_activity_execution_size",
        "worker_local_activities_per_second",
        "disable_registration_aliasing",
        "deadlock_detection_timeout",
    }
)
