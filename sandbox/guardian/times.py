"""The guardian stand-in's clock: wall-clock epoch seconds, since its answers state moments
(`expires_at`, `x-ratelimit-reset`), and the ISO form those moments take in a body."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
WALL: Clock = time.time


def iso(epoch: float) -> str:
    """`2026-05-01T12:00:00.000Z`, the form Auth0's APIs write moments in."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
