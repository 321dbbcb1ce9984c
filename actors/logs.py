"""Logs for people: one stderr handler, levels that show what a user needs, one line each.

By default what processes `print` and log (logger `app.*`) is shown from INFO, everything
else (the runtime's packages, libraries) from WARNING, the root logger's level.
`--log-level` sets one threshold for all of them; `-v` means debug. The Temporal SDK never
logs below INFO here: its DEBUG records are whole protobuf activations. A failure logged
with a traceback is one line (`ExcType: message`) unless debug logging is on: an activity
that fails or retries as designed is not a crash.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

__all__ = ["LEVEL_NAMES", "configure"]

LEVEL_NAMES = ("debug", "info", "warning", "error", "critical")
APP_LOGGERS = ("app",)
"""Where processes' `print` and `logger` records go (`app.<entry id>`)."""
RUNTIME_LOGGERS = ("actors", "lua_bindings", "temporal_host", "http_host", "uvicorn")
QUIET_LOGGERS = {"temporalio": logging.INFO, "asyncio": logging.INFO}
"""Library loggers and the lowest level they may log at."""

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%H:%M:%S"


class PeopleFormatter(logging.Formatter):
    """Formats a record on one line; with `tracebacks`, exception records keep theirs."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__(FORMAT, DATE_FORMAT)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks or not record.exc_info:
            return super().format(record)
        error = record.exc_info[1]
        plain = logging.makeLogRecord(record.__dict__)
        plain.exc_info = plain.exc_text = None
        text = super().format(plain)
        if error is not None:
            detail = " ".join(f"{type(error).__name__}: {error}".split())
            text = f"{text}: {detail}"
        return text


def configure(
    level: str | None = None, *, verbose: bool = False, stream: TextIO | None = None
) -> None:
    """Install the stderr handler and the levels (see the module docstring)."""
    if verbose and level is None:
        level = "debug"
    number = logging.getLevelName(level.upper()) if level else None
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(PeopleFormatter(tracebacks=number == logging.DEBUG))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number or logging.WARNING)
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(number or logging.INFO)
    for name, lowest in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(number or logging.WARNING, lowest))
