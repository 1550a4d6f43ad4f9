"""Selfies that no onboarding will delete, swept once they are old enough.

Two kinds would otherwise stay in the store for ever: an upload that no onboarding claimed
within `unclaimed_seconds` (its request was refused before any call, or never came), and a
selfie whose onboarding closed without deleting it (terminated, or reset away). The worker
sweeps every `SELFIE_SWEEP_SECONDS`; several workers may sweep at once, as deletes are
idempotent. Whether an onboarding still runs is asked of Temporal (`onboarding_open`);
when Temporal cannot say, the selfie stays until the next sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from activities.background import in_background
from activities.selfies.backend import SelfieBackend, StoredSelfie

logger = logging.getLogger("activities.selfies.sweeper")

# Whether the workflow that owns a selfie (by id) still runs, or keeps it (retention).
OnboardingOpen = Callable[[str], Awaitable[bool]]


@dataclass
class Swept:
    unclaimed: int = 0  # uploads no onboarding claimed in time
    abandoned: int = 0  # claimed by an onboarding that closed without deleting them


class SelfieSweeper:
    def __init__(
        self, store: SelfieBackend, onboarding_open: OnboardingOpen, unclaimed_seconds: float
    ) -> None:
        self._store = store
        self._onboarding_open = onboarding_open
        self._unclaimed_seconds = unclaimed_seconds

    async def sweep(self, now: float | None = None) -> Swept:
        """One pass over the store: what it deleted, by kind."""
        now = time.time() if now is None else now
        swept = Swept()
        for selfie in await asyncio.to_thread(lambda: list(self._store.selfies())):
            # A young selfie may be on its way to its onboarding: never looked at.
            if now - selfie.stored_at < self._unclaimed_seconds:
                continue
            kind = await self._left_behind(selfie)
            if kind is None:
                continue
            await asyncio.to_thread(self._store.delete, selfie.ref)
            setattr(swept, kind, getattr(swept, kind) + 1)
        if swept.unclaimed or swept.abandoned:
            logger.info(
                "selfies swept: %d never claimed, %d of closed onboardings",
                swept.unclaimed,
                swept.abandoned,
            )
        return swept

    async def _left_behind(self, selfie: StoredSelfie) -> str | None:
        claim = await asyncio.to_thread(self._store.read_claim, selfie.ref)
        if claim is None:
            return "unclaimed"
        if not await self._onboarding_open(claim.owner):
            return "abandoned"
        return None

    def running(self, every_seconds: float) -> contextlib.AbstractAsyncContextManager[None]:
        """Sweep every `every_seconds` while the block runs (the worker's life)."""
        return in_background(self.run(every_seconds))

    async def run(self, every_seconds: float) -> None:
        """Sweep every `every_seconds` until canceled; a failed pass waits for the next."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.sweep()
            except Exception:  # the store or Temporal down: the next pass tries again
                logger.warning("the selfie sweep failed; it runs again in %gs", every_seconds)
