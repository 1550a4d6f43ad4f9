"""Logging for the worker, the gateway and the CLI: one JSON object per line, redacted.

Every record, ours or a library's (temporalio, httpx, uvicorn), leaves through one handler
that first masks personal data and secrets (`onboarding.runtime.redaction`), then writes
`{"ts", "level", "logger", "message", ...extra fields, "exc"?}`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from onboarding.runtime.redaction import RedactionFilter, extra_fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **extra_fields(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)


def json_handler(stream: IO[str]) -> logging.Handler:
    """A handler that redacts, then writes JSON lines to `stream`."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter())
    return handler


# httpx writes a line for every request at INFO: one per Unico call, which the spans and
# metrics already carry, and each costs a redaction pass. At DEBUG they come back.
CHATTY_AT_INFO = ("httpx",)


def configure_logging(level: str | int = "INFO", stream: IO[str] | None = None) -> None:
    """Route every logger through the redacting JSON handler (replacing any other), and
    Python's warnings through logging."""
    logging.captureWarnings(True)  # a library's DeprecationWarning would be a line of text
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(json_handler(stream or sys.stderr))
    root.setLevel(level.upper() if isinstance(level, str) else level)
    debugging = root.getEffectiveLevel() <= logging.DEBUG
    for name in CHATTY_AT_INFO:
        logging.getLogger(name).setLevel(logging.NOTSET if debugging else logging.WARNING)
