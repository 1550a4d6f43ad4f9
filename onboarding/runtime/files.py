"""Secret files: read with a one-line error naming the setting, and a warning when others
may read them (still used: refusing would take a running fleet down over a chmod)."""

from __future__ import annotations

import logging
from pathlib import Path

from onboarding.runtime.errors import SettingsError
from onboarding_client import config as caller_config

logger = logging.getLogger("onboarding.runtime.secrets")


def read_secret_file(path: Path, setting: str) -> bytes:
    """The client's reader; its refusal raised as a SettingsError, which stops our processes
    in one line."""
    try:
        return caller_config.read_secret_file(path, setting)
    except caller_config.CallerConfigError as exc:
        raise SettingsError(str(exc)) from None


def warn_if_exposed(path: Path | None, setting: str) -> None:
    """A warning when the file's mode lets anyone but its owner read it."""
    if path is None:
        return
    mode = path.stat().st_mode
    if mode & 0o077:
        logger.warning(
            "%s: %s is open to group or others (mode %o): run chmod 600 on it",
            setting,
            path,
            mode & 0o777,
        )
