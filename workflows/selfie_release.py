"""The selfie's end of life, from the workflow's side.

`release_selfie` is an onboarding's last step: the worker's `release_selfie` activity
deletes the selfie at once, or answers a retention period. Since `selfie-with-last-call`,
the Unico call whose answer settled the process has usually done that already (`released`),
and only a retention period is left to start. Then, or if the store did not
answer in time, a detached `SelfieRetention` workflow takes over: a durable timer for the
retention period, then `delete_selfie`, retried until the store answers. The onboarding's
result never waits on the retention period or on a store that is down.

A durable timer rather than a janitor sweeping the store by age: a sweep cannot tell a
finished onboarding's selfie from that of one still waiting on Unico (which may need it for
a new process), while the timer starts exactly when its onboarding ends, survives restarts,
and shows in the Web UI.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows.models import SelfieRelease
    from workflows.names import DELETE_SELFIE, RELEASE_SELFIE, RETENTION_WORKFLOW_TYPE

MAX_REF_LENGTH = 256
RELEASE_TIMEOUT = timedelta(minutes=2)
CALL_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=10)
)


def selfie_ref_in(raw: Any) -> str | None:
    """The ref a request names, even a request refused for another reason."""
    ref = raw.get("selfie_ref") if isinstance(raw, dict) else None
    return ref if isinstance(ref, str) and 0 < len(ref) <= MAX_REF_LENGTH else None


async def release_selfie(
    selfie_ref: str, *, local: bool = False, released: SelfieRelease | None = None
) -> None:
    """Delete the onboarding's selfie now, or leave a retention timer to delete it later.

    `local`: as a local activity, run by the worker that runs the workflow (one action
    with the task's other local activities, instead of an activity's own). `released`: what
    a Unico call already did with it (no activity then)."""
    release = released if released is not None else await _release_now(selfie_ref, local=local)
    if release is not None and release.deleted:
        return
    # None: the store is down; the retention workflow retries the delete for as long.
    keep_seconds = release.keep_seconds if release is not None else 0.0
    # An earlier run of this onboarding (after a reset) may already have left one.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await workflow.start_child_workflow(
            RETENTION_WORKFLOW_TYPE,
            args=[selfie_ref, keep_seconds],
            id=f"selfie-retention-{workflow.info().workflow_id}",
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )


async def _release_now(selfie_ref: str, *, local: bool) -> SelfieRelease | None:
    execute = workflow.execute_local_activity if local else workflow.execute_activity
    try:
        release: SelfieRelease = await execute(
            RELEASE_SELFIE,
            selfie_ref,
            result_type=SelfieRelease,
            start_to_close_timeout=CALL_TIMEOUT,
            schedule_to_close_timeout=RELEASE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary="delete the selfie (or start its retention period)",
        )
    except ActivityError:
        return None
    return release


@workflow.defn(name=RETENTION_WORKFLOW_TYPE)
class SelfieRetention:
    @workflow.run
    async def run(self, selfie_ref: str, keep_seconds: float) -> None:
        if keep_seconds > 0:
            await workflow.sleep(keep_seconds, summary="keep the selfie for its retention period")
        await workflow.execute_activity(
            DELETE_SELFIE,
            selfie_ref,
            start_to_close_timeout=CALL_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary="delete the selfie",
        )
