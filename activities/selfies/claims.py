"""Whose selfie it is, and how many create requests left for it without a known answer.

The first onboarding whose `open_process` reads a selfie claims it, by its workflow id. Only
its owner deletes it: a request that names another onboarding's `selfie_ref` is refused
(20009, as Unico refuses a missing image) and deletes nothing, and a request refused before
any call claims nothing and deletes nothing (its caller may fix the typo and start again
with the same upload; an upload nobody claims is swept, `sweeper.py`).

Before a create request leaves, the claim counts it; when the call answers with a final
process, or fails with an error the workflow counts itself, the count goes back, and a
process still running is uncounted by its first read (the workflow reads only a process
whose create it heard). A worker killed with the request out, or with the answer not yet
in the workflow's history, leaves it counted, and the next attempt reports it: Unico may
hold a process for it.
"""

from __future__ import annotations

import asyncio

from activities.selfies.backend import Claim, InvalidSelfieRef, SelfieBackend
from onboarding_client.contract.names import RETENTION_ID_PREFIX


def owner_of(workflow_id: str | None) -> str:
    """The onboarding a workflow acts for: itself, or the one a retention timer outlives
    (an activity outside any workflow acts for nobody)."""
    return (workflow_id or "").removeprefix(RETENTION_ID_PREFIX)


class SelfieClaims:
    def __init__(self, store: SelfieBackend) -> None:
        self._store = store

    async def take(self, ref: str, owner: str) -> int | None:
        """Claim the selfie for `owner` (kept if it holds it already): the creates left
        unanswered by its earlier attempts, or None when another onboarding holds it."""
        claim = await asyncio.to_thread(self._store.read_claim, ref)
        if claim is not None and claim.owner != owner:
            return None
        if claim is None:
            await self.count(ref, owner, 0)
            return 0
        return claim.unanswered_creates

    async def count(self, ref: str, owner: str, unanswered_creates: int) -> None:
        claim = Claim(owner=owner, unanswered_creates=unanswered_creates)
        await asyncio.to_thread(self._store.write_claim, ref, claim)

    async def uncount(self, ref: str, owner: str) -> None:
        """The workflow heard every create of `owner` so far: none is out any more."""
        claim = await self._held_by(ref, owner)
        if claim is not None and claim.unanswered_creates > 0:
            await self.count(ref, owner, 0)

    async def owns(self, ref: str, owner: str) -> bool:
        return await self._held_by(ref, owner) is not None

    async def _held_by(self, ref: str, owner: str) -> Claim | None:
        """The claim on `ref` when `owner` holds it; None for another's, none, or no ref."""
        try:
            claim = await asyncio.to_thread(self._store.read_claim, ref)
        except InvalidSelfieRef:
            return None
        return claim if claim is not None and claim.owner == owner else None
