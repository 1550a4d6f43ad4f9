"""`ForgetRun`: deletes an onboarding's run whose input came in clear, a moment after it ended.

Started by that run as it ends (`steps/unsealed.py`), abandoned to outlive it: it waits
`FORGET_AFTER_SECONDS` so that the caller reads why its onboarding ended, then deletes the
run, history and all, retrying until the server agrees. It holds no personal data: the ids.

Not pinned (auto-upgrade), as `SelfieRetention`: a timer and one activity.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from contracts.sealing import (
        FORGET_AFTER_SECONDS,
        FORGET_WORKFLOW_TYPE,
        RunToForget,
        forget_run,
    )

    # As the selfie's delete: until the server agrees.
    from workflows.retention import CALL_TIMEOUT, STORE_RETRY


@workflow.defn(name=FORGET_WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class ForgetRun:
    @workflow.run
    async def run(self, *args: Any) -> None:
        try:
            run = RunToForget.model_validate(args[0] if args else None)
        except ValidationError:
            workflow.logger.warning("ForgetRun started without a run to forget: nothing done")
            return
        await workflow.sleep(FORGET_AFTER_SECONDS, summary="let the caller read the refusal")
        await workflow.execute_activity(
            forget_run,
            run,
            start_to_close_timeout=CALL_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary="delete the run whose input came in clear",
        )
