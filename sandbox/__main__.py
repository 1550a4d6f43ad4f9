"""`python -m sandbox`: serve the Unico, Identity Cloud and Auth0 Guardian stand-ins (see
`sandbox.config` for the flags)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import uvicorn

from sandbox.app import create_app
from sandbox.config import ConfigError, load_config


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = load_config(argv)
    except ConfigError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("sandbox").info(
        "serving %s on %s:%d, audience %s",
        config.service_account,
        config.host,
        config.port,
        config.audience,
    )
    # Our RequestLog writes the access line; uvicorn's would repeat it with the raw path.
    uvicorn.run(create_app(config), host=config.host, port=config.port, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
