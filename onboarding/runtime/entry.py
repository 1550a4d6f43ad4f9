"""How our processes start and end: one line for what stops them, and no teardown crash.

The Temporal client's Rust runtime keeps threads that can abort a process while CPython
finalizes (temporalio/sdk-python issue #300, "PyGILState_Release"), after everything of
ours is done: every entry point leaves with `leave`, once its output is flushed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

from onboarding.runtime.errors import SettingsError, StackUnavailable
from onboarding.runtime.logs import configure_logging
from onboarding.runtime.settings import Settings, load_settings
from onboarding.runtime.telemetry import flush_traces, forward_core_logs


def run_service(prog: str, serve: Callable[[Settings], Coroutine[Any, Any, None]]) -> int:
    """Load the settings, log as JSON lines, serve until stopped.

    A wrong setting, or a Temporal that cannot be reached, is one line on stderr naming
    it, and exit code 2.
    """
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        forward_core_logs()
        asyncio.run(serve(settings))
    except (SettingsError, StackUnavailable) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    finally:
        flush_traces()
    return 0


def leave(code: int) -> NoReturn:
    """Flush what is buffered (output, spans) and exit without interpreter teardown."""
    flush_traces()  # os._exit skips the exporter's own flush at exit
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
