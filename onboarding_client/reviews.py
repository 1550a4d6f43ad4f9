"""The onboardings waiting for a reviewer, as a calling service or a console lists them.

The list comes from the visibility store (stage `awaiting_review`) and each onboarding's
memo (what a reviewer needs: reasons, score, Unico's process id, since when, until when),
so listing reviews costs no query of any workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from onboarding_client.contract.names import STAGE_ATTRIBUTE, WORKFLOW_TYPE, workflow_id_for
from onboarding_client.contract.review import ReviewBrief
from onboarding_client.contract.status import Stage

WAITING_QUERY = (
    f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND "
    f"{STAGE_ATTRIBUTE.name} = '{Stage.AWAITING_REVIEW.value}'"
)
DUE_SOON = 0.25  # the last quarter of a review's time: the reminder shows
LIST_LIMIT = 10_000  # read a page of 1,000 at a time


@dataclass(frozen=True)
class WaitingReview:
    request_id: str
    brief: ReviewBrief

    def waited(self, now: datetime) -> timedelta:
        return now - self.brief.waiting_since

    def due_in(self, now: datetime) -> timedelta:
        return self.brief.deadline - now

    def due_soon(self, now: datetime) -> bool:
        """In the last quarter of its time: what the reminder flags."""
        window = self.brief.deadline - self.brief.waiting_since
        return self.due_in(now) <= window * DUE_SOON


async def waiting_reviews(client: Client) -> list[WaitingReview]:
    """The onboardings waiting for a reviewer, oldest first."""
    prefix = workflow_id_for("")
    found = []
    async for execution in client.list_workflows(WAITING_QUERY, limit=LIST_LIMIT):
        memo = await execution.memo()
        if "review" not in memo:  # indexed before its memo was written: next time
            continue
        brief = ReviewBrief.model_validate(memo["review"])
        found.append(WaitingReview(execution.id.removeprefix(prefix), brief))
    return sorted(found, key=lambda review: review.brief.waiting_since)


async def waiting_review(client: Client, request_id: str) -> WaitingReview | None:
    """One onboarding's waiting review (from its memo: no query), or None when it waits for
    none (unknown, ended, or at another stage)."""
    handle = client.get_workflow_handle(workflow_id_for(request_id))
    try:
        described = await handle.describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    stage = described.typed_search_attributes.get(STAGE_ATTRIBUTE)
    if (
        described.status is not WorkflowExecutionStatus.RUNNING
        or stage != Stage.AWAITING_REVIEW.value
    ):
        return None
    memo = await described.memo()
    if "review" not in memo:
        return None
    return WaitingReview(request_id, ReviewBrief.model_validate(memo["review"]))
