"""The review step: a person settles what Unico leaves to the client.

A `review` decision (a score in a "client evaluates" band, a dropped score) waits, when the
request asks for it, for update `review` `{"decision", "reviewer", "note"?}` until the review
deadline. The validator refuses, before anything reaches history, an answer that comes when
no review waits, a second answer, and a malformed one; the answer it lets through is the
audit trail, in the workflow's own history. Deterministic: workflow code only.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from workflows.models import (
        OnboardingResult,
        Outcome,
        Reason,
        ReviewAnswer,
        ReviewAnswered,
        ReviewDecision,
        ReviewOptions,
        ReviewRecord,
    )

# An operator's id as directories and SSO systems write them: a login or an e-mail address.
REVIEWER_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._@+-]{0,62}[A-Za-z0-9])?")
NOTE_MAX_LENGTH = 500
OUTCOMES = {
    ReviewDecision.APPROVED: Outcome.APPROVED,
    ReviewDecision.REJECTED: Outcome.REJECTED,
    ReviewDecision.RECAPTURE: Outcome.RECAPTURE,
}
DEADLINE_OUTCOMES = {"review": Outcome.REVIEW, "rejected": Outcome.REJECTED}


def refused(code: str, message: str) -> ApplicationError:
    """A refusal the caller reads: the code is the error's type."""
    return ApplicationError(message, type=code, non_retryable=True)


def parse_review_answer(raw: Any) -> ReviewAnswer:
    """The reviewer's answer, or `ApplicationError` with a `review.*` code saying what is wrong."""
    if not isinstance(raw, dict):
        raise refused("review.malformed", 'send {"decision", "reviewer", "note"?} as JSON')
    try:
        answer = ReviewAnswer.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "answer"
        code = "review.invalid_decision" if field == "decision" else "review.malformed"
        choices = ", ".join(d.value for d in ReviewDecision)
        why = f"one of {choices}" if field == "decision" else first["msg"]
        raise refused(code, f"{field}: {why}") from None
    if not REVIEWER_ID.fullmatch(answer.reviewer):
        raise refused(
            "review.invalid_reviewer",
            "reviewer: an operator id of 1-64 letters, digits or . _ @ + - (no spaces)",
        )
    note = answer.note
    if note is not None:
        if len(note) > NOTE_MAX_LENGTH:
            raise refused("review.invalid_note", f"note: at most {NOTE_MAX_LENGTH} characters")
        if any(unicodedata.category(char)[0] == "C" for char in note):
            raise refused("review.invalid_note", "note: no control or invisible characters")
        answer = answer.model_copy(update={"note": note.strip() or None})
    return answer


class ReviewDesk:
    """Whether a review waits, and the answer once one came."""

    def __init__(self) -> None:
        self.waiting = False
        self.record: ReviewRecord | None = None

    def check(self, raw: Any) -> ReviewAnswer:
        """For the update's validator: read-only, refuses with a `review.*` code."""
        if self.record is not None:
            raise refused(
                "review.already_answered",
                f"already answered: {self.record.decision.value} by {self.record.reviewer}",
            )
        if not self.waiting:
            raise refused("review.not_awaiting", "this onboarding is not waiting for a review")
        return parse_review_answer(raw)

    def answer(self, raw: Any) -> ReviewAnswered:
        """The handler's half: checked again (two answers may race), then kept."""
        answer = self.check(raw)
        self.record = ReviewRecord(**answer.model_dump(), reviewed_at=workflow.now())
        return ReviewAnswered(outcome=OUTCOMES[self.record.decision], review=self.record)

    async def wait(self, options: ReviewOptions, deadline: datetime) -> ReviewRecord | None:
        """Until a reviewer answers or the deadline passes (None); a cancellation raises."""
        self.waiting = True
        try:
            await workflow.wait_condition(
                lambda: self.record is not None,
                timeout=timedelta(seconds=options.deadline_seconds),
                timeout_summary=f"wait for a reviewer until {deadline:%Y-%m-%d %H:%M} UTC",
            )
        except TimeoutError:
            pass
        finally:
            self.waiting = False
        return self.record


def settled(
    decided: OnboardingResult, record: ReviewRecord | None, options: ReviewOptions
) -> OnboardingResult:
    """The result once the review is over: the reviewer's outcome, or the deadline's."""
    if record is None:
        reason = Reason(code="review.deadline", message="no reviewer answered by the deadline")
        outcome = DEADLINE_OUTCOMES[options.on_deadline]
    else:
        words = f"{record.decision.value} by reviewer {record.reviewer}"
        reason = Reason(code=f"review.{record.decision.value}", message=words)
        outcome = OUTCOMES[record.decision]
    return decided.model_copy(
        update={"outcome": outcome, "reasons": [*decided.reasons, reason], "review": record}
    )
