"""The selfie's end, an onboarding's last step, whatever its outcome.

Usually the Unico call whose answer settled the process has deleted it already (`released`).
Otherwise `release_selfie`, a local activity of the workflow's own worker, deletes it now or
answers a retention period. With a retention period, or a store that did not answer in
time, a detached `SelfieRetention` workflow takes over: it waits out the period, then
deletes the selfie, retrying until the store answers. The onboarding's result never waits
on the retention period or on a store that is down.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from contracts.selfies import SelfieRelease, release_selfie
    from onboarding_client.contract.names import RETENTION_ID_PREFIX, RETENTION_WORKFLOW_TYPE
    from workflows.calls import CallFailed, CallOptions, DeadlinePassed
    from workflows.journey import Journey
    from workflows.retention import CALL_TIMEOUT, STORE_RETRY

MAX_REF_LENGTH = 256
RELEASE = CallOptions(
    attempt=CALL_TIMEOUT, retry=STORE_RETRY, budget=timedelta(minutes=2), react=False, local=True
)


def selfie_ref_in(raw: Any) -> str | None:
    """The ref a request names, even a request refused for another reason."""
    ref = raw.get("selfie_ref") if isinstance(raw, dict) else None
    return ref if isinstance(ref, str) and 0 < len(ref) <= MAX_REF_LENGTH else None


async def release(journey: Journey, selfie_ref: str, released: SelfieRelease | None) -> None:
    """Delete the onboarding's selfie now, or leave a retention timer to delete it later."""
    if released is not None and released.evidence:
        released = None  # a reviewer's evidence stayed until the end: it goes now
    if released is None:
        try:
            calls = journey.calls_for(RELEASE.attempt.total_seconds())
            released = await calls.run(
                release_selfie,
                selfie_ref,
                "delete the selfie (or start its retention period)",
                RELEASE,
            )
        except (CallFailed, DeadlinePassed):
            released = None  # the store is down: the retention workflow retries the delete
    if released is not None and (released.deleted or not released.owned):
        return
    keep_seconds = released.keep_seconds if released is not None else 0.0
    # An earlier run of this onboarding (after a reset) may already have left one.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await workflow.start_child_workflow(
            RETENTION_WORKFLOW_TYPE,
            args=[selfie_ref, keep_seconds],
            id=f"{RETENTION_ID_PREFIX}{workflow.info().workflow_id}",
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
