"""Building the SDK worker of a `temporal.worker` entry (temporal.md §1.2, §17).

`build_worker` is the interface to the client side: it returns a configured, not yet
running `temporalio.worker.Worker` with the dynamic Lua workflow, the dynamic Lua activity,
the reserved local activities and the worker interceptors. The data converter comes with the
client (`protocol.DATA_CONVERTER`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import attrs
from temporalio.client import Client
from temporalio.common import RetryPolicy, VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import (
    Replayer,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkerDeploymentConfig,
)

from actors.errors import invalid
from actors.runtime import AppRuntime
from temporal_host import options
from temporal_host.activities import LuaActivities
from temporal_host.driver import LuaWorkflow
from temporal_host.interceptors import WippyInterceptor
from temporal_host.protocol import DATA_CONVERTER

log = logging.getLogger(__name__)


@attrs.frozen
class WorkerSettings:
    """What the workflow driver and the activities of one worker need to know."""

    runtime: AppRuntime
    client: Client | None
    """None in a `Replayer`: replays never run activities."""
    client_id: str
    worker_id: str
    task_queue: str
    tq_prefix: str = ""
    activity_retry: RetryPolicy = options.DEFAULT_ACTIVITY_RETRY
    """The default activity retry policy (§9.4)."""
    log_in_replay: bool = False

    def queue(self, name: str) -> str:
        """A task queue name we derive, with the client's prefix (§17): never twice."""
        if not self.tq_prefix or name.startswith(self.tq_prefix):
            return name
        return self.tq_prefix + name


def build_worker(
    client: Client,
    *,
    runtime: AppRuntime,
    client_id: str,
    worker_id: str,
    task_queue: str,
    worker_options: Mapping[str, Any],
    tq_prefix: str = "",
) -> Worker:
    """The worker of entry `worker_id` polling `task_queue` (already prefixed)."""
    settings = worker_settings(
        runtime, client, client_id, worker_id, task_queue, worker_options, tq_prefix
    )
    kwargs = worker_kwargs(worker_options)
    disable_workflows = kwargs.pop("disable_workflow_worker")
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[] if disable_workflows else [LuaWorkflow],
        activities=LuaActivities(settings).definitions(),
        interceptors=[WippyInterceptor(settings)],
        workflow_runner=UnsandboxedWorkflowRunner(),
        **kwargs,
    )


def build_replayer(settings: WorkerSettings, **kwargs: Any) -> Replayer:
    """A replayer with the same workflow, interceptors and data converter as the worker."""
    return Replayer(
        workflows=[LuaWorkflow],
        interceptors=[WippyInterceptor(settings)],
        data_converter=DATA_CONVERTER,
        workflow_runner=UnsandboxedWorkflowRunner(),
        **kwargs,
    )


def worker_settings(
    runtime: AppRuntime,
    client: Client | None,
    client_id: str,
    worker_id: str,
    task_queue: str,
    worker_options: Mapping[str, Any] | None = None,
    tq_prefix: str = "",
) -> WorkerSettings:
    worker_options = worker_options or {}
    retry = worker_options.get("default_activity_retry_policy")
    return WorkerSettings(
        runtime=runtime,
        client=client,
        client_id=client_id,
        worker_id=worker_id,
        task_queue=task_queue,
        tq_prefix=tq_prefix,
        activity_retry=(
            options.retry_policy("worker_options.default_activity_retry_policy", retry)
            if retry is not None
            else options.DEFAULT_ACTIVITY_RETRY
        ),
        log_in_replay=worker_options.get("enable_logging_in_replay") is True,
    )


# -- worker_options → Worker keyword arguments (§1.2) ---------------------------------------


def _count(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"worker_options.{key}: expected a non-negative integer")
    return value


def _rate(key: str, value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise invalid(f"worker_options.{key}: expected a non-negative number")
    return float(value) or None


def _pollers(key: str, value: Any) -> int:
    count = _count(key, value)
    if count == 1:
        raise invalid(f"worker_options.{key}: 1 is not allowed (use 2 or more)")
    return count


def _duration(key: str, value: Any) -> timedelta:
    return options.duration(f"worker_options.{key}", value)


def _flag(key: str, value: Any) -> bool:
    return options.boolean(f"worker_options.{key}", value)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise invalid(f"worker_options.{key}: expected a string")
    return value


_MAPPED: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "identity": ("identity", _text),
    "max_concurrent_activity_execution_size": ("max_concurrent_activities", _count),
    "max_concurrent_workflow_task_execution_size": ("max_concurrent_workflow_tasks", _count),
    "max_concurrent_local_activity_execution_size": ("max_concurrent_local_activities", _count),
    "max_concurrent_activity_task_pollers": ("max_concurrent_activity_task_polls", _count),
    "max_concurrent_workflow_task_pollers": ("max_concurrent_workflow_task_polls", _pollers),
    "worker_activities_per_second": ("max_activities_per_second", _rate),
    "task_queue_activities_per_second": ("max_task_queue_activities_per_second", _rate),
    "sticky_schedule_to_start_timeout": ("sticky_queue_schedule_to_start_timeout", _duration),
    "worker_stop_timeout": ("graceful_shutdown_timeout", _duration),
    "max_heartbeat_throttle_interval": ("max_heartbeat_throttle_interval", _duration),
    "default_heartbeat_throttle_interval": ("default_heartbeat_throttle_interval", _duration),
    "disable_eager_activities": ("disable_eager_activity_execution", _flag),
    "local_activity_worker_only": ("no_remote_activities", _flag),
    "build_id": ("build_id", _text),
    "use_versioning": ("use_worker_versioning", _flag),
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
_HANDLED_ELSEWHERE = frozenset(
    {
        "enable_logging_in_replay",
        "default_activity_retry_policy",
        "deployment_name",
        "default_versioning_behavior",
    }
)
_BEHAVIOUR = options.enum_value(VersioningBehavior, "VERSIONING_BEHAVIOR_")


def worker_kwargs(worker_options: Mapping[str, Any]) -> dict[str, Any]:
    """`Worker(...)` keyword arguments for `worker_options`; `Invalid` naming a bad key.

    Zero rates and empty strings mean "unset". Keys the SDK cannot express are accepted and
    ignored with a warning (§1.2); `disable_workflow_worker` is returned for the caller.
    """
    kwargs: dict[str, Any] = {"disable_workflow_worker": False}
    for key, value in worker_options.items():
        if key in _MAPPED:
            name, parse = _MAPPED[key]
            parsed = parse(key, value)
            if parsed not in (None, ""):
                kwargs[name] = parsed
        elif key == "disable_workflow_worker":
            kwargs[key] = _flag(key, value)
        elif key in _IGNORED:
            log.warning("worker_options.%s is not supported by the Python SDK; ignored", key)
        elif key not in _HANDLED_ELSEWHERE:
            raise invalid(f"worker_options: unknown option {key}")
    if kwargs["disable_workflow_worker"] and kwargs.get("no_remote_activities"):
        raise invalid(
            "worker_options: local_activity_worker_only conflicts with disable_workflow_worker"
        )
    deployment = worker_options.get("deployment_name")
    if deployment:
        kwargs["deployment_config"] = _deployment(str(deployment), kwargs, worker_options)
    return kwargs


def _deployment(
    name: str, kwargs: dict[str, Any], worker_options: Mapping[str, Any]
) -> WorkerDeploymentConfig:
    """Deployment-based versioning: it replaces `build_id` / `use_worker_versioning`."""
    build_id = kwargs.pop("build_id", None)
    if not build_id:
        raise invalid("worker_options.deployment_name needs a build_id")
    behaviour = worker_options.get("default_versioning_behavior", "pinned")
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(name, build_id),
        use_worker_versioning=kwargs.pop("use_worker_versioning", False),
        default_versioning_behavior=_BEHAVIOUR(
            "worker_options.default_versioning_behavior", behaviour
        ),
    )
