"""Parsed start options (`options.WorkflowOptions`) → `Client.start_workflow` keyword arguments.

`options.py` parses and checks what Lua wrote; this module only builds the SDK objects that
have no plain-value form (search attributes with inferred types, priority, versioning
override). The workflow ID, task queue and conflict policy are decided by the host
(temporal.md §3.2), not here.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from temporalio.common import (
    AutoUpgradeVersioningOverride,
    PinnedVersioningOverride,
    Priority,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    VersioningOverride,
    WorkerDeploymentVersion,
)

from actors.errors import invalid
from corelib.gotime import SECOND, GoTime
from temporal_host.options import WorkflowOptions

# Options whose parsed value is passed to `start_workflow` unchanged, under the SDK's name.
_DIRECT = {
    "execution_timeout": "execution_timeout",
    "run_timeout": "run_timeout",
    "task_timeout": "task_timeout",
    "id_reuse_policy": "id_reuse_policy",
    "retry_policy": "retry_policy",
    "cron_schedule": "cron_schedule",
    "memo": "memo",
    "enable_eager_start": "request_eager_start",
    "start_delay": "start_delay",
    "summary": "static_summary",
    "details": "static_details",
}


def start_arguments(options: WorkflowOptions) -> dict[str, Any]:
    """The keyword arguments of `Client.start_workflow` that come from options (§3.5)."""
    kwargs = {_DIRECT[name]: value for name, value in options.values.items() if name in _DIRECT}
    if "search_attributes" in options.values:
        kwargs["search_attributes"] = search_attributes(
            "workflow.search_attributes", options.values["search_attributes"]
        )
    if "priority" in options.values:
        kwargs["priority"] = priority("workflow.priority", options.values["priority"])
    if "versioning_override" in options.values:
        kwargs["versioning_override"] = versioning_override(
            "workflow.versioning_override", options.values["versioning_override"]
        )
    return kwargs


def search_attributes(key: str, values: dict[str, Any]) -> TypedSearchAttributes:
    """Types inferred from the Lua values: string → Keyword, boolean → Bool, integral number
    → Int, other number → Double, array of strings → KeywordList, Time → Datetime."""
    pairs = [_search_attribute(f"{key}.{name}", name, value) for name, value in values.items()]
    return TypedSearchAttributes(pairs)


def _search_attribute(key: str, name: str, value: Any) -> SearchAttributePair[Any]:
    if isinstance(value, bool):
        return SearchAttributePair(SearchAttributeKey.for_bool(name), value)
    if isinstance(value, str):
        return SearchAttributePair(SearchAttributeKey.for_keyword(name), value)
    if isinstance(value, int):
        return SearchAttributePair(SearchAttributeKey.for_int(name), value)
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer():
            return SearchAttributePair(SearchAttributeKey.for_int(name), int(value))
        return SearchAttributePair(SearchAttributeKey.for_float(name), value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return SearchAttributePair(SearchAttributeKey.for_keyword_list(name), value)
    if isinstance(value, GoTime):
        moment = datetime.fromtimestamp(value.unix_ns // SECOND, UTC).replace(
            microsecond=value.unix_ns % SECOND // 1000
        )
        return SearchAttributePair(SearchAttributeKey.for_datetime(name), moment)
    raise invalid(
        f"{key}: unsupported search attribute value (expected a string, boolean, number, "
        "array of strings or Time)"
    )


def priority(key: str, value: dict[str, Any]) -> Priority:
    unknown = set(value) - {"priority_key", "fairness_key", "fairness_weight"}
    if unknown:
        raise invalid(f"{key}: unknown field(s): {', '.join(sorted(unknown))}")
    level = value.get("priority_key")
    fairness_key = value.get("fairness_key")
    weight = value.get("fairness_weight")
    if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
        raise invalid(f"{key}.priority_key: expected an integer")
    if fairness_key is not None and not isinstance(fairness_key, str):
        raise invalid(f"{key}.fairness_key: expected a string")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int | float)):
        raise invalid(f"{key}.fairness_weight: expected a number")
    return Priority(
        priority_key=level,
        fairness_key=fairness_key,
        fairness_weight=float(weight) if weight is not None else None,
    )


def versioning_override(key: str, value: Any) -> VersioningOverride:
    """`"auto_upgrade"` or `{mode = "pinned", version = {deployment_name, build_id}}`."""
    if isinstance(value, str) and value.lower().replace("-", "_") == "auto_upgrade":
        return AutoUpgradeVersioningOverride()
    if isinstance(value, dict) and str(value.get("mode", "")).lower() == "pinned":
        version = value.get("version")
        if isinstance(version, dict):
            name, build = version.get("deployment_name"), version.get("build_id")
            if isinstance(name, str) and name and isinstance(build, str) and build:
                return PinnedVersioningOverride(WorkerDeploymentVersion(name, build))
    raise invalid(
        f'{key}: expected "auto_upgrade" or '
        '{mode = "pinned", version = {deployment_name = ..., build_id = ...}}'
    )
