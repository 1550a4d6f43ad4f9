"""An onboarding from the caller's side: start it, get its decision, read its result.

One request id is one onboarding (workflow id `onboarding-<request_id>`): a start while it
runs joins it, a start after it ended finds the ended one, so a retried call never makes a
second Unico process. A caller whose customer waits on a screen gets the identity decision
in one call (update-with-start), without waiting for the rest of the journey; the update
survives the onboarding continuing as new (the new run is asked again) and an onboarding
that already ended answers from its result.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from onboarding_client.contract.cpf import request_id_exposes_cpf
from onboarding_client.contract.names import (
    DECISION_UPDATE,
    STAGE_ATTRIBUTE,
    STATUS_QUERY,
    TASK_QUEUE,
    WORKFLOW_TYPE,
    workflow_id_for,
)
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import IdentityDecision, OnboardingResult
from onboarding_client.contract.status import OnboardingStatus, Stage
from onboarding_client.summary import static_details, static_summary

OnboardingHandle = WorkflowHandle[object, OnboardingResult]
ASKS = 3  # a run that continued as new is asked again, a few times at most


def start_options(request: OnboardingRequest, task_queue: str = TASK_QUEUE) -> dict[str, Any]:
    """How an onboarding is started, by a plain start or by update-with-start.

    One request id is one onboarding: a start while it runs joins it (USE_EXISTING), and a
    start after it closed is refused (REJECT_DUPLICATE) and finds the closed one, so a retried
    call never creates a second Unico process.
    """
    if request_id_exposes_cpf(request.request_id, request.subject.code):
        # Refused here, before the id reaches Temporal's visibility store in clear.
        raise ValueError("request_id must not contain the CPF: the workflow id is stored in clear")
    return {
        "id": workflow_id_for(request.request_id),
        "task_queue": task_queue,
        "result_type": OnboardingResult,
        "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
        "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
        "static_summary": static_summary(request),
        "static_details": static_details(request),
        # Searchable from the start, and free: keys given at start cost no action.
        "search_attributes": TypedSearchAttributes(
            [SearchAttributePair(STAGE_ATTRIBUTE, Stage.VALIDATING.value)]
        ),
    }


async def start_onboarding(
    client: Client, request: OnboardingRequest, task_queue: str = TASK_QUEUE
) -> OnboardingHandle:
    """Start, or join, the onboarding for `request.request_id` (see `start_options`)."""
    options = start_options(request, task_queue)
    try:
        handle: OnboardingHandle = await client.start_workflow(WORKFLOW_TYPE, request, **options)
    except WorkflowAlreadyStartedError:
        return handle_for(client, request.request_id)
    return handle


def handle_for(client: Client, request_id: str) -> OnboardingHandle:
    return client.get_workflow_handle(workflow_id_for(request_id), result_type=OnboardingResult)


async def onboarding_status(client: Client, request_id: str) -> OnboardingStatus:
    status: OnboardingStatus = await handle_for(client, request_id).query(
        STATUS_QUERY, result_type=OnboardingStatus
    )
    return status


async def start_for_decision(
    client: Client, request: OnboardingRequest, task_queue: str = TASK_QUEUE
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


async def result_of(client: Client, request_id: str) -> OnboardingResult:
    """The onboarding's result: waits for the onboarding to end (its review, account and MFA
    steps included) and follows it across continue-as-new."""
    return await handle_for(client, request_id).result()
