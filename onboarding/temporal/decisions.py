"""The identity decision, as soon as it exists: update `decision`, with or without a start.

A caller whose customer waits on a screen starts the onboarding and gets its decision in one
call (update-with-start; a repeated call joins the running onboarding), without waiting for
the rest of the journey. The update survives the onboarding continuing as new: an answer
the old run could not give is asked of the new one.
"""

from __future__ import annotations

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from contracts.names import DECISION_UPDATE, WORKFLOW_TYPE
from contracts.request import OnboardingRequest
from contracts.result import IdentityDecision, OnboardingResult
from onboarding.temporal.client import OnboardingHandle, handle_for, start_options

ASKS = 3  # a run that continued as new is asked again, a few times at most


async def start_for_decision(
    client: Client, request: OnboardingRequest, task_queue: str
) -> tuple[OnboardingHandle, IdentityDecision]:
    """Start (or join) the onboarding and wait for its identity decision, in one call."""
    operation: WithStartWorkflowOperation[object, OnboardingResult] = WithStartWorkflowOperation(
        WORKFLOW_TYPE, request, **start_options(request, task_queue)
    )
    try:
        decision: IdentityDecision = await client.execute_update_with_start_workflow(
            DECISION_UPDATE, start_workflow_operation=operation, result_type=IdentityDecision
        )
    except WorkflowAlreadyStartedError:
        # It ended before: its result holds the decision.
        handle = handle_for(client, request.request_id)
        return handle, (await handle.result()).identity()
    except WorkflowUpdateFailedError:
        # The run that took the update continued as new before it could answer.
        return handle_for(client, request.request_id), await decision_of(client, request.request_id)
    return await operation.workflow_handle(), decision


async def decision_of(client: Client, request_id: str) -> IdentityDecision:
    """The identity decision of a started onboarding: waits for it while it is made."""
    handle = handle_for(client, request_id)
    for _ in range(ASKS):
        try:
            answer: IdentityDecision = await handle.execute_update(
                DECISION_UPDATE, result_type=IdentityDecision
            )
            return answer
        except WorkflowUpdateFailedError:
            continue  # that run continued as new before it answered: ask the next
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            break  # it has ended: its result holds the decision
    return (await handle.result()).identity()
