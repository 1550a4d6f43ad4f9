"""A heartbeat while a call is out, so that the server learns of a dead worker in seconds.

Without one, an activity whose worker was killed is retried only when its start-to-close
timeout runs out (60 s for Unico's calls). The workflow gives these calls a heartbeat
timeout (`workflows/steps/identity.py`), and the activity beats well within it.

A call that answers before its first beat is due sends none: the server's clock for a
missed heartbeat runs from the attempt's start, so a dead worker is seen within the
timeout either way, and a beat is a request the server writes to the workflow's state.
Beating at once (the SDK sends a first heartbeat immediately) cost one such write per
Unico call, for the calls that answer within a second, nearly all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio import activity

from activities.background import in_background

BEAT_EVERY_SECONDS = 1.0
# The first beat, as a share of the heartbeat timeout (2 s of 5 s): late enough that a
# call answering in a second or two sends none, early enough that a worker whose event
# loop lags seconds still beats in time. The SDK holds later beats to 80 % of the timeout.
FIRST_BEAT_SHARE = 0.4


@contextlib.asynccontextmanager
async def heartbeating(every: float = BEAT_EVERY_SECONDS) -> AsyncIterator[None]:
    """Beat once the block has run `FIRST_BEAT_SHARE` of the heartbeat timeout, then every
    `every` seconds until it ends (the SDK throttles sends)."""
    timeout = activity.info().heartbeat_timeout if activity.in_activity() else None
    if not timeout:
        yield
        return

    async def beat() -> None:
        await asyncio.sleep(timeout.total_seconds() * FIRST_BEAT_SHARE)
        while True:
            activity.heartbeat()
            await asyncio.sleep(every)

    async with in_background(beat()):
        yield
