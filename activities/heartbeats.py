"""A heartbeat while a call is out, so that the server learns of a dead worker in seconds.

Without one, an activity whose worker was killed is retried only when its start-to-close
timeout runs out (60 s for Unico's calls). The workflow gives these calls a heartbeat
timeout (`workflows/steps/identity.py`), and the activity beats well within it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio import activity

from activities.background import in_background

BEAT_EVERY_SECONDS = 1.0


@contextlib.asynccontextmanager
async def heartbeating(every: float = BEAT_EVERY_SECONDS) -> AsyncIterator[None]:
    """Beat now and every `every` seconds until the block ends (the SDK throttles sends)."""
    if not activity.in_activity() or not activity.info().heartbeat_timeout:
        yield
        return

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every)

    async with in_background(beat()):
        yield
