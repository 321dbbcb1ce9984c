"""The option schema and the `meta.temporal` parser: one parse, clear errors, one translation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.workflow import ActivityCancellationType, ParentClosePolicy

from actors.errors import ActorError
from actors.registry import Entry, Registry
from temporal_host.meta import TemporalMeta
from temporal_host.options import (
    DEFAULT_ACTIVITY_RETRY,
    ActivityOptions,
    WorkflowOptions,
    merge,
)
from temporal_host.plugin import start_order


def _error(parse: Any, options: dict[str, Any]) -> str:
    with pytest.raises(ActorError) as caught:
        parse(options)
    assert caught.value.error.kind == "Invalid"
    return caught.value.error.message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workflow.execution_timeout": "soon"}, "workflow.execution_timeout: invalid duration"),
        ({"workflow.bogus": 1}, "unknown option workflow.bogus"),
        ({"workflow.id": ""}, "workflow.id: expected a non-empty string"),
        ({"workflow.id_conflict_policy": "nope"}, "workflow.id_conflict_policy: invalid value"),
        (
            {"temporal.workflow.retry_policy": {"maximum_attempts": -1}},
            "workflow.retry_policy: maximum_attempts: expected a non-negative integer",
        ),
        ({"workflow.priority": {"x": 1}}, "workflow.priority: unknown field(s): x"),
        ({"workflow.memo": "text"}, "workflow.memo: expected a table"),
        ({"workflow.enable_eager_start": 1}, "workflow.enable_eager_start: expected a boolean"),
    ],
)
def test_workflow_option_errors_name_the_key(options: dict[str, Any], message: str) -> None:
    assert message in _error(WorkflowOptions.parse, options)


def test_activity_option_errors_name_the_key() -> None:
    message = _error(ActivityOptions.parse, {"activity.heartbeat_timeout": True})
    assert message == "activity.heartbeat_timeout: expected a duration, got a boolean"
    assert "unknown option activity.retry" in _error(ActivityOptions.parse, {"activity.retry": 1})


def test_start_and_child_translations_share_one_mapping() -> None:
    options = WorkflowOptions.parse(
        merge(
            {"temporal.workflow.static_summary": "old", "workflow.execution_timeout": 5000},
            {
                "workflow.summary": "new",
                "workflow.start_delay": "1s",
                "workflow.parent_close_policy": "abandon",
                "workflow.search_attributes": {"n": 1},
            },
        )
    )
    start = options.start_arguments()
    child = options.child_arguments("default")
    for kwargs in (start, child):
        assert kwargs["static_summary"] == "new"
        assert kwargs["execution_timeout"] == timedelta(seconds=5)
        assert [p.key.name for p in kwargs["search_attributes"]] == ["n"]
    assert start["start_delay"] == timedelta(seconds=1) and "parent_close_policy" not in start
    assert child["parent_close_policy"] == ParentClosePolicy.ABANDON and "start_delay" not in child
    with pytest.raises(ActorError, match="another namespace"):
        WorkflowOptions.parse({"workflow.namespace": "other"}).child_arguments("default")


def test_conflict_policy_defaults() -> None:
    assert WorkflowOptions().conflict_policy(False) == WorkflowIDConflictPolicy.FAIL
    assert WorkflowOptions().conflict_policy(True) == WorkflowIDConflictPolicy.USE_EXISTING
    flag = WorkflowOptions.parse({"workflow.execution_error_when_already_started": True})
    assert flag.conflict_policy(True) == WorkflowIDConflictPolicy.FAIL


def test_activity_translation() -> None:
    parsed = ActivityOptions.parse(
        {
            "activity.task_queue": "q",
            "activity.summary": "s",
            "activity.wait_for_cancellation": True,
            "activity.priority": {"priority_key": 2},
        }
    )
    remote = parsed.activity_arguments(DEFAULT_ACTIVITY_RETRY, lambda name: "p-" + name)
    assert remote["task_queue"] == "p-q" and remote["summary"] == "s"
    assert remote["start_to_close_timeout"] == timedelta(minutes=10)
    assert remote["retry_policy"] is DEFAULT_ACTIVITY_RETRY
    assert remote["cancellation_type"] == ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
    local = parsed.local_activity_arguments(DEFAULT_ACTIVITY_RETRY)
    assert "task_queue" not in local and "priority" not in local and local["summary"] == "s"


def _entry(meta: dict[str, Any], kind: str = "workflow.lua") -> Entry:
    return Entry.create("app", "wf", kind, meta=meta, data={"source": "file://wf.lua"})


def test_meta_temporal_is_one_typed_view() -> None:
    meta = TemporalMeta.of(_entry({"temporal": {"workflow": {"worker": "w", "name": "Order"}}}))
    assert (meta.workflow_type, meta.workflow_worker) == ("Order", "app:w")
    plain = TemporalMeta.of(_entry({}))
    assert (plain.workflow_type, plain.workflow_worker, plain.local_activity) == (
        "app:wf",
        None,
        False,
    )
    activity = TemporalMeta.of(
        _entry({"temporal": {"activity": {"worker": "x:w", "local": True}}}, "function.lua")
    )
    assert (activity.activity_worker, activity.local_activity) == ("x:w", True)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"temporal": {"workflow": {"worker": 3}}}, "meta.temporal.workflow.worker: expected"),
        (
            {"temporal": {"workflow": {"wroker": "w"}}},
            "unknown field meta.temporal.workflow.wroker",
        ),
        ({"temporal": {"activity": {"local": "yes"}}}, "meta.temporal.activity.local: expected"),
        ({"temporal": "w"}, "meta.temporal must be a mapping"),
    ],
)
def test_malformed_meta_temporal_is_named(meta: dict[str, Any], message: str) -> None:
    with pytest.raises(ActorError) as caught:
        TemporalMeta.of(_entry(meta))
    assert message in caught.value.error.message
    assert caught.value.error.message.startswith("app:wf: ")


# -- lifecycle.requires between Temporal workers ------------------------------------------------


def _worker(name: str, requires: list[str] | None = None) -> Entry:
    data: dict[str, Any] = {"client": "temporal", "task_queue": name}
    if requires is not None:
        data["lifecycle"] = {"requires": requires}
    return Entry.create("app", name, "temporal.worker", data=data)


def _registry(*entries: Entry) -> Registry:
    registry = Registry()
    registry.add(Entry.create("app", "temporal", "temporal.client", data={"address": "x:1"}))
    registry.add(Entry.create("app", "db", "process.service"))
    for entry in entries:
        registry.add(entry)
    return registry


def test_workers_start_after_what_they_require() -> None:
    billing = _worker("billing", ["orders", "app:db"])
    orders = _worker("orders", ["temporal"])
    audit = _worker("audit")
    registry = _registry(billing, orders, audit)
    order = start_order([billing, orders, audit], registry)
    assert [entry.name for entry in order] == ["orders", "billing", "audit"]


def test_a_requires_cycle_or_an_unknown_entry_is_an_error() -> None:
    first, second = _worker("first", ["second"]), _worker("second", ["first"])
    with pytest.raises(ActorError, match="cycle: app:first -> app:second -> app:first"):
        start_order([first, second], _registry(first, second))
    lonely = _worker("lonely", ["nothing"])
    with pytest.raises(ActorError, match="names app:nothing, which is no entry"):
        start_order([lonely], _registry(lonely))
