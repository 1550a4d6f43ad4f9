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

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts.deployment import review_by_default
    from contracts.four_eyes import second_reviewer_needed
    from onboarding_client.contract.names import REVIEW_DEADLINE_ATTRIBUTE
    from onboarding_client.contract.outcome import Outcome, Reason
    from onboarding_client.contract.request import OnboardingRequest, ReviewOptions
    from onboarding_client.contract.result import OnboardingResult
    from onboarding_client.contract.review import OUTCOMES, ReviewBrief, ReviewRecord, ReviewSignals
    from onboarding_client.contract.status import Stage
    from workflows.calls import CallFailed, CallOptions, DeadlinePassed
    from workflows.journey import Journey
    from workflows.steps.review_desk import ReviewDesk

DEADLINE_OUTCOMES = {"review": Outcome.REVIEW, "rejected": Outcome.REJECTED}
# The deployment's answer is a local activity of the workflow's own worker: a setting.
ASK_DEPLOYMENT = CallOptions(
    attempt=timedelta(seconds=10), retry=RetryPolicy(), local=True, react=False
)


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

    async def run(
        self, request: OnboardingRequest, decided: OnboardingResult, signals: ReviewSignals | None
    ) -> OnboardingResult:
        """Wait for a reviewer until the review deadline; the `decision` update answers
        `review` meanwhile. `signals`: Unico's answer, which says whether an approval needs
        four eyes."""
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
            signals=signals,
            attempts=decided.attempts,
            four_eyes=second_reviewer_needed(signals),
        )
        self.desk.brief = brief
        workflow.upsert_memo({"review": brief.model_dump(mode="json")})
        progress.enter(Stage.AWAITING_REVIEW, REVIEW_DEADLINE_ATTRIBUTE.value_set(deadline))
        progress.show(reasons=decided.reasons)
        record = await self._wait(options, deadline)
        progress.status.review_deadline = None
        return settled(decided, record, options)

    async def _wait(self, options: ReviewOptions, deadline: datetime) -> ReviewRecord | None:
        """Until the final answer or the deadline (None); a cancellation raises."""
        desk = self.desk
        desk.waiting = True
        try:
            await workflow.wait_condition(
                lambda: desk.record is not None,
                timeout=timedelta(seconds=options.deadline_seconds),
                timeout_summary=f"wait for a reviewer until {deadline:%Y-%m-%d %H:%M} UTC",
            )
        except TimeoutError:
            pass
        finally:
            desk.waiting = False
        return desk.record


def settled(
    decided: OnboardingResult, record: ReviewRecord | None, options: ReviewOptions
) -> OnboardingResult:
    """The result once the review is over: the reviewer's outcome, or the deadline's."""
    if record is None:
        reason = Reason(code="review.deadline", message="no reviewer answered by the deadline")
        outcome = DEADLINE_OUTCOMES[options.on_deadline]
    else:
        words = f"{record.decision.value} by reviewer {record.reviewer}"
        if record.first_review is not None:
            verb = "confirming" if record.decision.value == "approved" else "overruling"
            words += f", {verb} the approval of {record.first_review.reviewer}"
        reason = Reason(code=f"review.{record.decision.value}", message=words)
        outcome = OUTCOMES[record.decision]
    return decided.model_copy(
        update={"outcome": outcome, "reasons": [*decided.reasons, reason], "review": record}
    )
