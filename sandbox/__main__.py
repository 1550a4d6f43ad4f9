"""`python -m sandbox`: serve the Unico, Identity Cloud and Auth0 Guardian stand-ins (see
`sandbox.config` for the flags)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import uvicorn

from sandbox.app import create_app
from sandbox.config import ConfigError, load_config


class JsonLines(logging.Formatter):
    """One JSON object per line, as the stack's other logs are written."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def log_json_lines() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.captureWarnings(True)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = load_config(argv)
    except ConfigError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    log_json_lines()
    logging.getLogger("sandbox").info(
        "serving %s on %s:%d, audience %s",
        config.service_account,
        config.host,
        config.port,
        config.audience,
    )
    # Our RequestLog writes the access line; uvicorn's would repeat it with the raw path.
    # No log config of uvicorn's: its lines go to the root's JSON handler.
    uvicorn.run(
        create_app(config), host=config.host, port=config.port, access_log=False, log_config=None
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
