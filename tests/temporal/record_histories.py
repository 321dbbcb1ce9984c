"""Re-record the golden histories of the seed examples (`tests/temporal/histories/*.json`).

    .venv/bin/python -m tests.temporal.record_histories [NAME ...]

`test_replay_histories.py` replays these files with the workflow driver, so a change that
makes a running workflow take another path on replay (nondeterminism) fails CI.

When to run it:
- an example is added, or changes on purpose what its workflow does (its commands:
  activities, timers, children, signals, markers, in their order), and the change is guarded
  by `workflow.version` or only meant for new workflows;
- the driver deliberately changes the commands it issues for some Lua call (say, a new
  reserved activity): that breaks running workflows, so it needs a release note, and these
  files show it in review.
Never run it just to make a failing replay test pass: that failure is exactly the break a
deploy would cause for workflows already in flight.

It boots `examples/seed` with its own embedded dev server (in memory, the YAML's search
attributes registered by the Temporal plugin), runs the examples, and saves each recorded
workflow's history with its ID and type, once the workflow has closed or, for the examples
that sleep for hours, once that timer has started. Names limit the run to those files.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import attrs
from temporalio.api.enums.v1 import EventType

from tests.temporal.test_seed_examples import FULL_ORDER, SAGA_ORDER, SeedApp, booted_seed_app

HISTORIES = Path(__file__).parent / "histories"

Start = Callable[[SeedApp], Awaitable[str]]
"""Runs an example; the workflow ID (or PID) of the workflow to record."""


@attrs.frozen
class Recording:
    start: Start
    pending_timer: bool = False
    """Record once the workflow's (hours long) durable timer started, not when it closed."""


def workflow(target: str, *args: Any, pending_timer: bool = False) -> Recording:
    """A workflow entry started on the worker."""

    async def start(app: SeedApp) -> str:
        return await app.start(target, *args)

    return Recording(start, pending_timer)


def caller(target: str, *args: Any, pick: Callable[[Any], str]) -> Recording:
    """A local process that starts the workflow; `pick` finds its PID in the result."""

    async def start(app: SeedApp) -> str:
        return pick(await app.value(target, *args))

    return Recording(start)


def child_of(target: str, *args: Any) -> Recording:
    """The (first) child workflow of a parent workflow entry."""

    async def start(app: SeedApp) -> str:
        parent = await app.start(target, *args)
        event = await app.first_event(parent, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)
        started = event.child_workflow_execution_started_event_attributes
        return started.workflow_execution.workflow_id

    return Recording(start)


def _pid(out: Any) -> str:
    return out["pid"]


COUNTER_REQUESTS = [
    ["increment", {"amount": 5}],
    ["decrement", {"amount": 2}],
    ["decrement", {"amount": 10}],
    ["increment", {"amount": "x"}],
    ["finish", None],
]

RECORDINGS: dict[str, Recording] = {
    # "Базовая реализация"
    "order_workflow": workflow("app:order_workflow", FULL_ORDER, pending_timer=True),
    "order_workflow_refused": caller("app:spawn_monitored", pick=_pid),
    # "Модуль workflow"
    "info_workflow": workflow("app:info_workflow"),
    "exec_workflow": workflow("app:exec_workflow", {"x": 1}),
    "child_workflow": child_of("app:exec_workflow", {"x": 2}),
    "version_workflow": workflow("app:version_workflow", {"amount": 3}),
    "attrs_workflow": workflow("app:attrs_workflow", {"customer_id": "c-9", "total": 99.5}),
    "history_workflow": workflow("app:history_workflow"),
    # "Запуск workflow"
    "counter_with_startup_messages": caller("app:startup_messages", pick=_pid),
    "context_workflow": caller("app:call_context_read", pick=_pid),
    # "Сигналы"
    "inbox_workflow_approve": caller(
        "app:call_inbox", {"id": "o-7", "shipping_address": "x"}, [["approve", {}]], pick=_pid
    ),
    "inbox_workflow_cancel": caller(
        "app:call_inbox", {"id": "o-8"}, [["cancel", {"reason": "no"}]], pick=_pid
    ),
    "jobs_workflow": caller("app:call_jobs", [{"id": 1}, {"id": 2}], pick=_pid),
    "request_workflow": caller("app:call_request", pick=_pid),
    "counter_workflow": caller("app:call_counter", COUNTER_REQUESTS, pick=_pid),
    "status_workflow": caller("app:ack_caller", pick=lambda out: out["workflow"]),
    "ping_sender_workflow": caller(
        "app:call_ping", pick=lambda out: out["receiver_exit"]["result"]["pinged_by"]
    ),
    "ping_receiver_workflow": caller("app:call_ping", pick=lambda out: out["receiver"]),
    # "Дочерние workflow"
    "async_child_workflow": workflow("app:async_child_workflow"),
    "error_child_parent_workflow": workflow("app:error_child_parent_workflow"),
    "error_child_workflow": child_of("app:error_child_parent_workflow"),
    "process_exec_workflow": workflow("app:process_exec_workflow"),
    "hello_workflow": child_of("app:process_exec_workflow"),
    # "Мониторинг и связывание", "Завершение и отмена"
    "long_workflow": caller("app:monitor_after", pick=_pid),
    "long_workflow_cancelled": caller("app:cancel", pick=_pid),
    # "Параллельная работа", "Таймеры", "Детерминизм"
    "parallel_workflow": workflow("app:parallel_workflow", {"workers": 3, "jobs": 6}),
    "timers_workflow": workflow("app:timers_workflow", pending_timer=True),
    "elapsed_workflow": workflow("app:elapsed_workflow"),
    "safe_workflow": workflow("app:safe_workflow", "d-1", {"n": 1}, pending_timer=True),
    "unsafe_workflow": workflow("app:unsafe_workflow"),
    # "Обработка ошибок", "Паттерн компенсации (Saga)"
    "activity_errors_workflow": workflow("app:activity_errors_workflow", {"id": "o-2"}),
    "failure_modes_workflow": workflow("app:failure_modes_workflow", {}),
    "child_errors_workflow": workflow("app:child_errors_workflow"),
    "error_workflow": child_of("app:child_errors_workflow"),
    "saga_workflow": workflow("app:saga_workflow", SAGA_ORDER),
    "saga_workflow_compensation": workflow("app:saga_workflow", {**SAGA_ORDER, "payment": {}}),
}


async def record(app: SeedApp, name: str, recording: Recording) -> None:
    """Run one example and write its history file."""
    workflow_id = app.handle(await recording.start(app)).id
    if recording.pending_timer:
        await app.first_event(workflow_id, EventType.EVENT_TYPE_TIMER_STARTED)
    else:
        await app.closed(workflow_id)
    history = await app.handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    document = {
        "workflow_id": workflow_id,
        "workflow_type": started.workflow_type.name,
        "history": json.loads(history.to_json()),
    }
    (HISTORIES / f"{name}.json").write_text(json.dumps(document, indent=1) + "\n")
    if recording.pending_timer:
        await app.terminate(workflow_id)
    print(f"recorded {name} ({len(history.events)} events)", file=sys.stderr)


async def main(names: list[str]) -> None:
    unknown = set(names) - RECORDINGS.keys()
    if unknown:
        raise SystemExit(f"unknown recordings: {', '.join(sorted(unknown))}")
    HISTORIES.mkdir(exist_ok=True)
    async with booted_seed_app() as app, anyio.create_task_group() as group:
        for name, recording in RECORDINGS.items():
            if not names or name in names:
                group.start_soon(record, app, name, recording)


if __name__ == "__main__":
    # The SDK logs every failed activity with a traceback; several examples fail on purpose.
    logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="recordings to redo (default: all)")
    anyio.run(main, parser.parse_args().names)
