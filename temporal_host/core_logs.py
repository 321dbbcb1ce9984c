"""Temporal core's own logs (the Rust side of the SDK) through Python logging.

Left alone, core writes coloured text straight to the terminal, ANSI codes included when
stderr is a file or a pipe. Forwarded to the `temporalio.core` logger they take the path and
format of every other log line (`actors.logs`): stderr, plain text, the same levels.
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

CORE_LOGGER = "temporalio.core"

_installed = False


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
