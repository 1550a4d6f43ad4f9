"""The selfie's end of life, as the workflow asks for it: the activities of the store.

They run on the workflow's own task queue (no remote system's budget): `release_selfie`
as a local activity at an onboarding's end, `delete_selfie` from the retention timer.
"""

from __future__ import annotations

from pydantic import BaseModel

from contracts.activity import contract, not_called


class SelfieRelease(BaseModel):
    """What became of the selfie when its onboarding ended: deleted, or kept a while."""

    deleted: bool
    keep_seconds: float = 0
    # False: the onboarding never claimed it (refused before any call, or another's): it
    # stays for its owner, or for the sweep of unclaimed uploads.
    owned: bool = True
    # A reviewer's evidence was kept, sealed: the onboarding's end deletes it.
    evidence: bool = False


@contract("release_selfie")
async def release_selfie(selfie_ref: str) -> SelfieRelease:
    """The onboarding is over: delete the selfie now, or say how long to keep it."""
    raise not_called("release_selfie")


@contract("delete_selfie")
async def delete_selfie(selfie_ref: str) -> None:
    """Delete it; a missing selfie is already gone, so a retry passes."""
    raise not_called("delete_selfie")
