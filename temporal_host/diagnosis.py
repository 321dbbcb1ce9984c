"""Workflow task failures, said once and plainly (issue 12 item 11).

A workflow task that fails is retried by Temporal until the code changes, and the SDK logs a
traceback on every attempt. Two failures are worth one clear line instead:

- a `workflow.version` call whose recorded version this code no longer supports: the run
  cannot go on with this code, so its task fails (`WorkflowTaskFailure`) with "unsupported
  version V of change C (this code supports A..B)" rather than reaching an unrelated
  non-determinism error later;
- a non-determinism error (the code issued other commands than the history recorded),
  with the workflow and the first command that differs.

Each is logged once per workflow and message at ERROR on `temporal_host.diagnosis`; the
SDK's per-attempt records of the same failure are dropped.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

_MAX_REMEMBERED = 10_000
_reported: dict[tuple[str, str], None] = {}


class WorkflowTaskFailure(Exception):
    """Fails the workflow task, not the workflow: Temporal retries it, so a deploy of code
    that handles the history lets the run go on."""


def report_once(workflow_id: str, message: str) -> None:
    key = (workflow_id, message)
    if key in _reported:
        return
    if len(_reported) >= _MAX_REMEMBERED:
        _reported.clear()
    _reported[key] = None
    log.error("workflow %s: %s", workflow_id, message)


class _ActivationFailures(logging.Filter):
    """On the SDK's workflow-instance logger: the per-attempt "Failed activation" records."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None:
            return True
        details = getattr(record, "temporal_workflow", None) or {}
        workflow_id = str(details.get("workflow_id", "?"))
        if isinstance(error, WorkflowTaskFailure):
            report_once(workflow_id, str(error))
            return False
        if "ondeterminism" in type(error).__name__ or "ondeterminism" in str(error):
            report_once(workflow_id, f"non-deterministic workflow code: {_first_line(error)}")
            return False
        return True


_RUN_ID = re.compile(r"run_id\W{1,4}([0-9a-f]{8}-[0-9a-f-]{27})")
_DETAIL = re.compile(r"Nondeterminism error: ([^\"]+)")
_runs: dict[str, str] = {}


def remember_run(run_id: str, workflow_id: str) -> None:
    """Core names runs by run ID only: the driver tells which workflow each run is."""
    if len(_runs) >= _MAX_REMEMBERED:
        _runs.clear()
    _runs[run_id] = workflow_id


class _CoreNondeterminism(logging.Filter):
    """On the forwarded core logger: non-determinism found by the SDK's core (the command
    the code issued does not match the next event of the history)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        fields = getattr(record, "temporal_log", None)
        if fields is not None:
            text = f"{text} {getattr(fields, 'fields', '')}"
        detail = _DETAIL.search(text)
        if detail is None:
            return True
        run = _RUN_ID.search(text)
        workflow_id = _runs.get(run.group(1), run.group(1)) if run else "?"
        report_once(workflow_id, f"non-deterministic workflow code: {detail.group(1)}")
        return False


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def install(core_logger: str) -> None:
    """Add the filters, once per Python process."""
    targets = (
        (logging.getLogger("temporalio.worker._workflow_instance"), _ActivationFailures),
        (logging.getLogger(core_logger), _CoreNondeterminism),
    )
    for logger, kind in targets:
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
