"""The exit rule: what the monitors and links of a process get when it exits.

Every host applies this one rule (`LocalHostBase` for in-memory processes, the Temporal
watchers for workflows, the workflow driver for a workflow's children), and the property
tests' models read the same table, so they cannot drift apart.

    subscriber of X         X ends normally (value)        X fails (error)
    ----------------------  -----------------------------  ------------------------------
    a monitor               EXIT with the value            EXIT with the error
    a link, X a process     released, nothing delivered    LINK_DOWN if the peer traps
                                                           links; else it dies too
                                                           (cascade: `Canceled`, "linked
                                                           process failed: X")
    a link, X a workflow    EXIT with the value (none if   as for a process
                            the peer also monitors X: one
                            EXIT in all), then released
    a link held by a        nothing (links never reach a   nothing
    workflow                workflow)
    a workflow's child      EXIT (a workflow monitors      EXIT
                            every child it starts)

The workflow differences (temporal.md §11) all come from Temporal having no links: a link
to a workflow is a watch held by the local side. It is one-directional (a local process's
exit never affects a workflow, `LINKS_REACH`), and since nothing else would tell the peer
that the workflow ended, success arrives as EXIT too (`LINK_EXIT_ON_SUCCESS`). Workflows
themselves can neither link nor monitor (`process.link` / `process.monitor` are `Invalid`
there); their children are monitored instead.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from actors import errors
from actors.errors import Error
from actors.messages import Event, exit_event
from actors.pid import PID
from actors.values import copy_value

if TYPE_CHECKING:
    from actors.node import Node


class Source(enum.Enum):
    """What kind of process exits (or holds a link)."""

    PROCESS = "process"
    WORKFLOW = "workflow"


LINK_EXIT_ON_SUCCESS: dict[Source, bool] = {Source.PROCESS: False, Source.WORKFLOW: True}
"""Whether a linked peer gets EXIT when the source ends normally."""

LINKS_REACH: dict[Source, bool] = {Source.PROCESS: True, Source.WORKFLOW: False}
"""Whether a linked peer's failure can reach a process of this kind (trap or cascade)."""


class LinkNotice(enum.Enum):
    """What a linked peer is told when the source exits."""

    RELEASE = "release"
    """The link is forgotten; nothing is delivered."""
    EXIT = "exit"
    """EXIT with the value, then the link is forgotten."""
    DOWN = "down"
    """The source failed: the peer traps it (LINK_DOWN) or dies with it (`on_link_down`)."""


class LinkDown(enum.Enum):
    """What a process does when a linked peer fails."""

    TRAP = "trap"
    """It receives a LINK_DOWN event and carries on."""
    CASCADE = "cascade"
    """It dies too, with `cascade_error`."""


def link_notice(source: Source, failed: bool, *, also_monitors: bool) -> LinkNotice:
    """What a linked peer gets when a `source` process exits (`failed`: with an error)."""
    if failed:
        return LinkNotice.DOWN
    if LINK_EXIT_ON_SUCCESS[source] and not also_monitors:
        return LinkNotice.EXIT
    return LinkNotice.RELEASE


def on_link_down(trap_links: bool) -> LinkDown:
    return LinkDown.TRAP if trap_links else LinkDown.CASCADE


def terminated_error() -> Error:
    """The error of a process ended by `process.terminate` (or at the end of a shutdown)."""
    return Error("process terminated", errors.CANCELED, False)


def cascade_error(peer: PID, cause: Error) -> Error:
    """The error of a process that died because a linked peer failed (lua-api §4.5)."""
    return Error(
        f"linked process failed: {peer}",
        errors.CANCELED,
        False,
        {"linked_pid": str(peer), "cause": cause.message},
    )


def monitor_event(source: PID, value: Any, error: Error | None) -> Event:
    """The EXIT a monitor of `source` receives."""
    return exit_event(source, value, error)


def notify_exit(
    node: Node,
    pid: PID,
    value: Any,
    error: Error | None,
    *,
    source: Source,
    monitors: Iterable[PID],
    links: Iterable[PID],
    value_is_private: bool = False,
) -> None:
    """Tell the monitors and links of `pid` about its exit, through the node.

    Each receiver gets its own copy of the value (processes share nothing); with
    `value_is_private` the first one takes `value` itself (the host made that copy).
    """
    fresh = value_is_private

    def copy() -> Any:
        nonlocal fresh
        if fresh:
            fresh = False
            return value
        return copy_value(value)

    told: set[PID] = set()
    for watcher in monitors:
        node.deliver_event(watcher, monitor_event(pid, copy(), error))
        told.add(watcher)
    for peer in links:
        notice = link_notice(source, error is not None, also_monitors=peer in told)
        if notice is LinkNotice.DOWN:
            assert error is not None
            node.link_down(peer, pid, error)
            continue
        if notice is LinkNotice.EXIT:
            node.deliver_event(peer, exit_event(pid, copy()))
        node.link_released(peer, pid)
