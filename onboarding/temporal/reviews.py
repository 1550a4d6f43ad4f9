"""Reviews from the reviewer's side: a claim on one, an answer to one, the input a case
shows. (The list of waiting reviews is the caller's client's: `onboarding_client.reviews`.)

An answer is update `review`, whose validator in the workflow refuses what it cannot take,
with a `review.*` code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError
from temporalio.client import Client

from onboarding.temporal.step_updates import send_update
from onboarding_client.contract.names import (
    CLAIM_UPDATE,
    REVIEW_UPDATE,
    workflow_id_for,
)
from onboarding_client.contract.request import Subject
from onboarding_client.contract.review import (
    ReviewAnswer,
    ReviewAnswered,
    ReviewClaim,
    ReviewClaimed,
)


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
