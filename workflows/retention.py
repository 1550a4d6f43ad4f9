"""`SelfieRetention`: keeps a selfie for the deployment's retention period, then deletes it.

A durable timer rather than a janitor sweeping the store by age: a sweep cannot tell a
finished onboarding's selfie from that of one still waiting on Unico (which may need it for
a new process), while the timer starts exactly when its onboarding ends, survives restarts,
and shows in the Web UI. It also takes over a delete that the store refused at an
onboarding's end, retrying until the store answers.

Not pinned (auto-upgrade): a retention period may last up to a year, and a pinned run would
keep its build's workers alive that long. Its code is a timer and one activity; a change to
its commands goes behind `workflow.patched`, as for any workflow that moves between builds.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from contracts.selfies import delete_selfie
    from onboarding_client.contract.names import RETENTION_WORKFLOW_TYPE

CALL_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=10)
)


@workflow.defn(name=RETENTION_WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class SelfieRetention:
    @workflow.run
    async def run(self, selfie_ref: str, keep_seconds: float) -> None:
        if keep_seconds > 0:
            await workflow.sleep(keep_seconds, summary="keep the selfie for its retention period")
        await workflow.execute_activity(
            delete_selfie,
            selfie_ref,
            start_to_close_timeout=CALL_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary="delete the selfie",
        )
