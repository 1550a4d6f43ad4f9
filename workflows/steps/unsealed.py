"""An input that came in clear: the onboarding refuses it at once and has its run forgotten.

The run's history holds the person's data (the server wrote it before any worker saw it).
The run ends `invalid_request` with reason `request.not_encrypted`, calling no one, and
leaves an abandoned `ForgetRun` workflow that deletes it once the caller has read why.
"""

from __future__ import annotations

import contextlib
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from contracts.sealing import (
        FORGET_AFTER_SECONDS,
        FORGET_ID_PREFIX,
        FORGET_WORKFLOW_TYPE,
        NOT_ENCRYPTED,
        RunToForget,
    )
    from onboarding_client.contract.outcome import Outcome
    from workflows.journey import Journey


async def refuse_unsealed(journey: Journey) -> NoReturn:
    info = workflow.info()
    run = RunToForget(workflow_id=info.workflow_id, run_id=info.run_id)
    workflow.logger.warning("an onboarding's input came unencrypted: refused, run to be deleted")
    with contextlib.suppress(WorkflowAlreadyStartedError):  # a reset run left one already
        await workflow.start_child_workflow(
            FORGET_WORKFLOW_TYPE,
            args=[run],
            id=f"{FORGET_ID_PREFIX}{info.workflow_id}",
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
    journey.finish(
        Outcome.INVALID_REQUEST,
        NOT_ENCRYPTED,
        "the input reached Temporal unencrypted: start through the payload codec. This "
        f"onboarding's history is deleted {FORGET_AFTER_SECONDS:g} s after it ended",
    )
