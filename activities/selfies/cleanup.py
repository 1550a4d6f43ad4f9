"""The selfie's end: deleted once Unico settled its process or its onboarding ended, or
after the retention period.

`release_settled` runs inside the Unico call whose answer settles the process (no create
will need the selfie again): the selfie goes there, leaving a tombstone for a retry of that
call; where a reviewer will look (`keep_evidence`), the image stays sealed
(`contracts/evidence.py`) until the onboarding's end deletes it. Otherwise `release_selfie`
runs as an onboarding's last step. With
SELFIE_RETENTION_SECONDS at 0 (the default) either deletes the selfie at once; otherwise it
answers how long to keep it, and the workflow leaves a durable timer (`SelfieRetention`) to
call `delete_selfie` then. Either deletes only a selfie its onboarding owns (`claims.py`):
one named by a request refused before any call, or claimed by another onboarding, stays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from temporalio import activity

from activities.selfies.backend import InvalidSelfieRef, SelfieBackend, SelfieNotFound
from activities.selfies.claims import SelfieClaims, owner_of
from activities.selfies.inspection import is_capture_like
from contracts.activity import implements
from contracts.evidence import EvidenceSeal
from contracts.selfies import SelfieRelease, delete_selfie, release_selfie
from contracts.unico import UnicoProcess

logger = logging.getLogger("activities.selfies.cleanup")


class SelfieCleanup:
    def __init__(
        self,
        store: SelfieBackend,
        retention_seconds: float,
        evidence: EvidenceSeal | None = None,
        review_by_default: bool = False,
    ) -> None:
        self._store = store
        self._retention = retention_seconds
        self._claims = SelfieClaims(store)
        self._evidence = evidence  # seals a review's evidence (none: no evidence is kept)
        self._review_by_default = review_by_default  # REVIEW_BY_DEFAULT, for a request silent on it

    def all(self) -> Sequence[Callable[..., Any]]:
        return [self.release_selfie, self.delete_selfie]

    async def release_settled(
        self, selfie_ref: str, process: UnicoProcess, keep_evidence: bool | None = False
    ) -> SelfieRelease | None:
        """The selfie's end once Unico settled `process`; None: not settled, or the store
        failed (the onboarding's end releases it then, with retries). With `keep_evidence`
        (a reviewer will look), the image goes on sealed until the review ends."""
        if not process.is_settled:
            return None
        if self._retention > 0:
            return SelfieRelease(deleted=False, keep_seconds=self._retention)
        if keep_evidence is None:  # the request left review to the deployment
            keep_evidence = self._review_by_default
        try:
            kept = keep_evidence and await asyncio.to_thread(self._keep_evidence, selfie_ref)
            await asyncio.to_thread(self._store.release, selfie_ref, process.id)
        except Exception:  # any store's failure: the call's answer must not be lost for it
            logger.warning("the selfie's release failed; it goes when its onboarding ends")
            return None
        return SelfieRelease(deleted=True, evidence=kept)

    def _keep_evidence(self, selfie_ref: str) -> bool:
        """Seal what a reviewer sees: the image given, or beside a capture the one the
        person saw; a capture alone shows nothing (it is sealed for Unico)."""
        if self._evidence is None:
            return False
        try:
            image = self._store.get_preview(selfie_ref)
        except SelfieNotFound:
            image = self._store.get(selfie_ref)
            if is_capture_like(image):
                return False
        self._store.put_evidence(selfie_ref, self._evidence.seal(image, selfie_ref))
        return True

    @implements(release_selfie)
    async def release_selfie(self, selfie_ref: str) -> SelfieRelease:
        """The onboarding is over: delete the selfie now, or say how long to keep it."""
        if not await self._owned(selfie_ref):
            return SelfieRelease(deleted=False, owned=False)
        if self._retention > 0:
            return SelfieRelease(deleted=False, keep_seconds=self._retention)
        await self.delete_selfie(selfie_ref)
        return SelfieRelease(deleted=True)

    @implements(delete_selfie)
    async def delete_selfie(self, selfie_ref: str) -> None:
        """Delete it; a missing selfie is already gone, so a retry passes."""
        if not await self._owned(selfie_ref):
            logger.warning("the selfie is not this onboarding's to delete; it stays")
            return
        try:
            await asyncio.to_thread(self._store.delete, selfie_ref)
        except InvalidSelfieRef:
            # Not a ref of this store (malformed, or another backend's): nothing to delete.
            logger.warning("no selfie of this store is named %r; nothing deleted", selfie_ref[:80])

    async def _owned(self, selfie_ref: str) -> bool:
        return await self._claims.owns(selfie_ref, owner_of(activity.info().workflow_id))
