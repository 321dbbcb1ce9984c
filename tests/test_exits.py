"""The one exit rule (actors/exits.py): its table, and `notify_exit` applying it."""

from __future__ import annotations

from typing import Any

import pytest

from actors import errors
from actors.errors import Error
from actors.exits import (
    LinkDown,
    LinkNotice,
    Source,
    link_notice,
    notify_exit,
    on_link_down,
)
from actors.messages import EXIT
from actors.pid import PID

FAILED = Error("boom", errors.INTERNAL, False)


@pytest.mark.parametrize(
    ("source", "failed", "also_monitors", "notice"),
    [
        (Source.PROCESS, False, False, LinkNotice.RELEASE),
        (Source.PROCESS, False, True, LinkNotice.RELEASE),
        (Source.PROCESS, True, False, LinkNotice.DOWN),
        (Source.WORKFLOW, False, False, LinkNotice.EXIT),
        (Source.WORKFLOW, False, True, LinkNotice.RELEASE),
        (Source.WORKFLOW, True, True, LinkNotice.DOWN),
    ],
)
def test_link_notice_table(
    source: Source, failed: bool, also_monitors: bool, notice: LinkNotice
) -> None:
    assert link_notice(source, failed, also_monitors=also_monitors) is notice


def test_a_failed_link_is_trapped_or_cascades() -> None:
    assert on_link_down(True) is LinkDown.TRAP
    assert on_link_down(False) is LinkDown.CASCADE


class RecordingNode:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def deliver_event(self, target: PID, event: Any) -> None:
        self.calls.append(("event", target, event.kind, event.value, event.error))

    def link_down(self, target: PID, source: PID, error: Error) -> None:
        self.calls.append(("down", target, error))

    def link_released(self, target: PID, source: PID) -> None:
        self.calls.append(("released", target))


def _notify(source: Source, value: Any, error: Error | None) -> list[tuple[Any, ...]]:
    node = RecordingNode()
    x, m, both, link = (PID("h", str(n)) for n in range(4))
    notify_exit(
        node,  # type: ignore[arg-type]
        x,
        value,
        error,
        source=source,
        monitors=[m, both],
        links=[both, link],
    )
    return node.calls


def test_a_workflow_success_reaches_its_links_as_one_exit() -> None:
    m, both, link = (PID("h", str(n)) for n in range(1, 4))
    assert _notify(Source.WORKFLOW, {"v": 1}, None) == [
        ("event", m, EXIT, {"v": 1}, None),
        ("event", both, EXIT, {"v": 1}, None),
        ("released", both),
        ("event", link, EXIT, {"v": 1}, None),
        ("released", link),
    ]


def test_a_process_success_only_releases_its_links() -> None:
    m, both, link = (PID("h", str(n)) for n in range(1, 4))
    assert _notify(Source.PROCESS, 7, None) == [
        ("event", m, EXIT, 7, None),
        ("event", both, EXIT, 7, None),
        ("released", both),
        ("released", link),
    ]


def test_a_failure_goes_down_every_link() -> None:
    m, both, link = (PID("h", str(n)) for n in range(1, 4))
    for source in Source:
        assert _notify(source, None, FAILED) == [
            ("event", m, EXIT, None, FAILED),
            ("event", both, EXIT, None, FAILED),
            ("down", both, FAILED),
            ("down", link, FAILED),
        ]


def test_every_receiver_gets_its_own_copy() -> None:
    node = RecordingNode()
    value = {"list": [1, 2]}
    notify_exit(
        node,  # type: ignore[arg-type]
        PID("h", "x"),
        value,
        None,
        source=Source.WORKFLOW,
        monitors=[PID("h", "1")],
        links=[PID("h", "2")],
        value_is_private=True,
    )
    first, second = node.calls[0][3], node.calls[1][3]
    assert first is value and second == value and second is not value
