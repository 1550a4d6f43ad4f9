"""The review step: a person settles what Unico leaves to the client.

A `review` decision (a score in a "client evaluates" band, a dropped score) waits, when the
request asks for it (or, where it leaves that open, the deployment), for update `review`
until the review deadline. The validator refuses, before anything reaches history, an
answer that comes when no review waits, a second answer, a malformed one, and one without
the console's proof of a verified reviewer with a reviewer's role
(`contracts/review_proof.py`); the answer it lets through is the audit trail, in the
workflow's own history, naming the person the identity provider verified.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts.deployment import review_by_default
    from contracts.errors import refusal
    from contracts.names import REVIEW_DEADLINE_ATTRIBUTE
    from contracts.outcome import Outcome, Reason
    from contracts.request import OnboardingRequest, ReviewOptions
    from contracts.result import OnboardingResult
    from contracts.review import (
        ALREADY_ANSWERED,
        NOT_AWAITING,
        OUTCOMES,
        ReviewAnswer,
        ReviewAnswered,
        ReviewBrief,
        ReviewRecord,
        parse_review_answer,
    )
    from contracts.review_proof import AnswerBinding, proof_claims, trusted_signers, verify_proof
    from contracts.status import Stage
    from workflows.calls import CallFailed, CallOptions, DeadlinePassed
    from workflows.journey import Journey

DEADLINE_OUTCOMES = {"review": Outcome.REVIEW, "rejected": Outcome.REJECTED}
# The deployment's answer is a local activity of the workflow's own worker: a setting.
ASK_DEPLOYMENT = CallOptions(
    attempt=timedelta(seconds=10), retry=RetryPolicy(), local=True, react=False
)


class ReviewDesk:
    """Whether a review waits, and the answer once one came."""

    def __init__(self) -> None:
        self.waiting = False
        self.record: ReviewRecord | None = None

    def check(self, raw: Any) -> ReviewAnswer:
        """For the update's validator: read-only, refuses with a `review.*` code."""
        if self.record is not None:
            raise refusal(
                ALREADY_ANSWERED,
                f"already answered: {self.record.decision.value} by {self.record.reviewer}",
            )
        if not self.waiting:
            raise refusal(NOT_AWAITING, "this onboarding is not waiting for a review")
        return parse_review_answer(raw)

    def admit(self, raw: Any) -> None:
        """The validator: `check`, then the proof of a verified reviewer. Only here: the
        handler also runs on replay, where a key retired since must change nothing."""
        answer = self.check(raw)
        binding = AnswerBinding(
            workflow_id=workflow.info().workflow_id,
            decision=answer.decision.value,
            reason=answer.reason,
            note=answer.note,
        )
        now = workflow.now()
        # The signature check's native code imports its error types when it first needs
        # them: through the sandbox's importer that aborted the worker (a forged proof was
        # enough), so it imports as the worker's own code does.
        with workflow.unsafe.imports_passed_through():
            verify_proof(answer.proof, binding, now, trusted_signers)

    def answer(self, raw: Any) -> ReviewAnswered:
        """The handler's half: checked again (two answers may race), then kept."""
        answer = self.check(raw)
        if answer.proof is not None:  # the validator verified it
            verified = proof_claims(answer.proof)
            reviewer, reviewer_id = verified.email or verified.sub, verified.sub
        else:  # an answer recorded before reviewers were verified
            reviewer, reviewer_id = answer.reviewer or "unknown", None
        self.record = ReviewRecord(
            decision=answer.decision,
            reviewer=reviewer,
            reviewer_id=reviewer_id,
            reason=answer.reason,
            note=answer.note,
            reviewed_at=workflow.now(),
        )
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


class ReviewStep:
    def __init__(self, journey: Journey) -> None:
        self._journey = journey
        self.desk = ReviewDesk()

    async def wanted(self, request: OnboardingRequest, decided: OnboardingResult) -> bool:
        """A `review` decision, and the request's choice (or, where it leaves it open, the
        deployment's)."""
        if decided.outcome is not Outcome.REVIEW:
            return False
        if request.options.review.enabled is not None:
            return request.options.review.enabled
        calls = self._journey.calls_for(request.options.review.deadline_seconds)
        try:
            return await calls.ask(
                review_by_default, "does this deployment review by default?", ASK_DEPLOYMENT
            )
        except (CallFailed, DeadlinePassed):
            return True  # the deployment cannot say: a person decides, the safe side

    async def run(self, request: OnboardingRequest, decided: OnboardingResult) -> OnboardingResult:
        """Wait for a reviewer until the review deadline; the `decision` update answers
        `review` meanwhile."""
        options = request.options.review
        progress = self._journey.progress
        since = workflow.now()
        deadline = since + timedelta(seconds=options.deadline_seconds)
        progress.status.review_deadline = deadline
        brief = ReviewBrief(
            reasons=decided.reasons,
            score=decided.score,
            process_id=decided.process_id,
            waiting_since=since,
            deadline=deadline,
        )
        workflow.upsert_memo({"review": brief.model_dump(mode="json")})
        progress.enter(Stage.AWAITING_REVIEW, REVIEW_DEADLINE_ATTRIBUTE.value_set(deadline))
        progress.show(reasons=decided.reasons)
        record = await self.desk.wait(options, deadline)
        progress.status.review_deadline = None
        return settled(decided, record, options)


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
