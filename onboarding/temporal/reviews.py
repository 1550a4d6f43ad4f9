"""Reviews from the reviewer's side: the onboardings waiting for one, and an answer to one.

The list comes from the visibility store (stage `awaiting_review`) and each onboarding's
memo (what a reviewer needs: reasons, score, Unico's process id, since when, until when),
so listing reviews costs no query of any workflow. An answer is update `review`, whose
validator in the workflow refuses what it cannot take, with a `review.*` code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from contracts.names import (
    CLAIM_UPDATE,
    REVIEW_UPDATE,
    STAGE_ATTRIBUTE,
    WORKFLOW_TYPE,
    workflow_id_for,
)
from contracts.request import Subject
from contracts.review import ReviewAnswer, ReviewAnswered, ReviewBrief, ReviewClaim, ReviewClaimed
from contracts.status import Stage
from onboarding.temporal.step_updates import send_update

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


async def claim_review(client: Client, request_id: str, claim: ReviewClaim) -> ReviewClaimed:
    """Hold a waiting review for the reviewer the claim's proof names, or let it go; who
    holds it now, or `UpdateRefused` (`review.held`: another reviewer does)."""
    return await send_update(
        client,
        request_id,
        CLAIM_UPDATE,
        claim.model_dump(mode="json"),
        ReviewClaimed,
        not_running_code="review.not_awaiting",
        waits_for="review",
    )


@dataclass(frozen=True)
class ReviewInput:
    """What a case shows from the onboarding's input: the person, and where the selfie is."""

    subject: Subject
    selfie_ref: str


async def review_input(client: Client, request_id: str) -> ReviewInput | None:
    """The person and the selfie's ref, from the input the onboarding's run started with
    (decrypted through this client's codec); None when it cannot be read."""
    handle = client.get_workflow_handle(workflow_id_for(request_id))
    async for event in handle.fetch_history_events():
        payloads = list(event.workflow_execution_started_event_attributes.input.payloads)
        values = await client.data_converter.decode(payloads[:1]) if payloads else []
        raw = values[0] if values else None
        if not isinstance(raw, dict):
            return None
        try:
            subject = Subject.model_validate(raw.get("subject"))
        except ValidationError:
            return None
        ref = raw.get("selfie_ref")
        return ReviewInput(subject, ref if isinstance(ref, str) else "")
    return None


async def review_onboarding(
    client: Client, request_id: str, answer: ReviewAnswer
) -> ReviewAnswered:
    """Settle a waiting review: the outcome and the record the onboarding keeps, or
    `UpdateRefused`."""
    body = answer.model_dump(mode="json", exclude_none=True)
    return await send_update(
        client,
        request_id,
        REVIEW_UPDATE,
        body,
        ReviewAnswered,
        not_running_code="review.not_awaiting",
        waits_for="review",
    )


def span_text(span: timedelta) -> str:
    """`45 s`, `12 min`, `3.5 h`: as a reviewer reads a wait."""
    seconds = span.total_seconds()
    if abs(seconds) < 120:
        return f"{seconds:.0f} s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
