"""The Temporal SDK's logs, made fit for people.

- Core (the Rust side of the SDK), left alone, writes coloured text straight to the
  terminal, ANSI codes included when stderr is a file or a pipe. Forwarded to the
  `temporalio.core` logger it takes the path and format of every other log line
  (`actors.logs`): stderr, plain text, the same levels.
- An activity that fails (and will be retried, or not) is an expected event of a workflow,
  not a crash: one line naming the activity, the attempt, the workflow and the error,
  instead of the SDK's dictionary and traceback (kept when debug logging is on).
"""

from __future__ import annotations

import contextlib
import logging

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from temporal_host import diagnosis

log = logging.getLogger(__name__)

CORE_LOGGER = "temporalio.core"
ACTIVITY_LOGGER = "temporalio.activity"

_installed = False


class ActivityFailureFilter(logging.Filter):
    """Rewrites the SDK's "Completing activity as failed" record as one plain line."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = getattr(record, "temporal_activity", None)
        if not record.exc_info or not isinstance(info, dict) or "activity_type" not in info:
            return True
        error = record.exc_info[1]
        reason = str(error)
        kind = getattr(error, "type", None) or type(error).__name__
        if not reason.startswith(f"{kind}:"):
            reason = f"{kind}: {reason}"
        record.msg = "activity %s failed (attempt %s, workflow %s): %s"
        record.args = (
            info.get("activity_type"),
            info.get("attempt"),
            info.get("workflow_id"),
            " ".join(reason.split()),
        )
        if not log.isEnabledFor(logging.DEBUG):  # the SDK's own loggers never go below INFO
            record.exc_info = record.exc_text = None
        return True


def install() -> None:
    """Forward core logs and shorten activity failures, once per Python process."""
    if not any(isinstance(f, ActivityFailureFilter) for f in _activity_logger().filters):
        _activity_logger().addFilter(ActivityFailureFilter())
    diagnosis.install(CORE_LOGGER)
    forward_core_logs()


def _activity_logger() -> logging.Logger:
    return logging.getLogger(ACTIVITY_LOGGER)


def forward_core_logs() -> None:
    """Make the SDK's default runtime forward core logs, once per Python process.

    Must run before the first client connects; a default runtime that already exists (a
    test that connected first, say) is kept, since clients stay on the runtime they began on.
    """
    global _installed
    if _installed:
        return
    _installed = True
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
            )
        )
    )
    with contextlib.suppress(RuntimeError):
        Runtime.set_default(runtime, error_if_already_set=True)
