"""The desk of a waiting review: who holds it, the answers, and four eyes.

Each of its updates has two halves. The validator (`admit`, `admit_claim`) checks the
request's shape, the onboarding's state and the console's proof of a verified reviewer
(`contracts/review_proof.py`), and refuses before anything reaches history. The handler
(`answer`, `claim`) checks the state again (two reviewers may race) and acts; it reads the
proof's claims without verifying them, since it also runs on replay, where a key retired
since must change nothing.

- A hold: the console claims a review when a reviewer opens it, for `HOLD_SECONDS`
  (opening it again renews it); others see who holds it and cannot answer it; its holder or
  a senior reviewer releases it, and an answer ends it.
- Four eyes: an approval whose signals call for it (`contracts/four_eyes.py`) is not final:
  it waits for a second, different reviewer with role `senior_reviewer`, who confirms it
  (`approved`) or overrules it (`rejected`, `recapture`). Any other answer is final at once.

The memo's `review` (what the queue reads) follows every change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.review_proof import (
        FORBIDDEN,
        AnswerBinding,
        VerifiedReviewer,
        proof_claims,
        trusted_signers,
        verify_proof,
    )
    from onboarding_client.contract.errors import refusal
    from onboarding_client.contract.outcome import Outcome
    from onboarding_client.contract.review import (
        ALREADY_ANSWERED,
        HELD,
        NOT_AWAITING,
        OUTCOMES,
        SAME_REVIEWER,
        SENIOR_REQUIRED,
        ReviewAnswer,
        ReviewAnswered,
        ReviewBrief,
        ReviewClaim,
        ReviewClaimed,
        ReviewDecision,
        ReviewHold,
        ReviewRecord,
        parse_review_answer,
        parse_review_claim,
    )

HOLD_SECONDS = 900  # a reviewer's hold on an opened review: 15 minutes, renewed by opening it
AWAITING_SECOND = "second_reviewer"


class ReviewDesk:
    """Whether a review waits, who holds it, a first approval, and the final answer."""

    def __init__(self) -> None:
        self.waiting = False
        self.record: ReviewRecord | None = None  # the final answer
        self.brief: ReviewBrief | None = None  # what the memo shows while it waits

    # --- the answer (update `review`) ---------------------------------------------------

    def check(self, raw: Any) -> ReviewAnswer:
        """Shape and state, for both halves: refuses with a `review.*` code."""
        self._still_waiting()
        return parse_review_answer(raw)

    def admit(self, raw: Any) -> None:
        """The validator: `check`, the proof, and whether this reviewer may answer now."""
        answer = self.check(raw)
        binding = (answer.decision.value, answer.reason, answer.note)
        self._may_answer(self._verified(answer.proof, *binding))

    def answer(self, raw: Any) -> ReviewAnswered:
        """The handler: keep the answer; a first approval that needs four eyes waits."""
        answer = self.check(raw)
        record = _record_of(answer)
        brief = self.brief
        if brief is not None and answer.proof is not None:  # checked again: two may race
            self._may_answer(proof_claims(answer.proof))
        if brief is not None and brief.first_review is None and _needs_second(brief, answer):
            self._publish(brief.model_copy(update={"first_review": record, "held_by": None}))
            return ReviewAnswered(outcome=Outcome.REVIEW, review=record, awaiting=AWAITING_SECOND)
        if brief is not None and brief.first_review is not None:
            record = record.model_copy(update={"first_review": brief.first_review})
        self.record = record
        return ReviewAnswered(outcome=OUTCOMES[record.decision], review=record)

    def _may_answer(self, reviewer: VerifiedReviewer) -> None:
        """Not held by another; and, after a first approval, a different senior."""
        brief = self.brief
        if brief is None:  # an onboarding from before holds and four eyes: nothing to check
            return
        self._not_held_by_another(brief, reviewer)
        self._second_reviewer(brief, reviewer)

    def _second_reviewer(self, brief: ReviewBrief, reviewer: VerifiedReviewer) -> None:
        """After a first approval that needs four eyes, only a different senior may act."""
        first = brief.first_review
        if first is None:
            return
        if reviewer.sub == first.reviewer_id:
            raise refusal(
                SAME_REVIEWER,
                f"{first.reviewer} approved already: a second, different reviewer confirms "
                "or overrules",
            )
        if not reviewer.senior:
            why = ", ".join(brief.four_eyes)
            raise refusal(
                SENIOR_REQUIRED,
                f"an approval against Unico's signals ({why}) needs a senior reviewer to "
                f"confirm or overrule it; {reviewer.email} is not one",
            )

    # --- the hold (update `claim_review`) -----------------------------------------------

    def admit_claim(self, raw: Any) -> None:
        """The validator: a waiting review, the proof, and whether this reviewer may."""
        self._still_waiting()
        claim = parse_review_claim(raw)
        self._may_hold(self._verified(claim.proof, claim.action, None, None), claim)

    def claim(self, raw: Any) -> ReviewClaimed:
        """The handler: hold the review, or let it go."""
        self._still_waiting()
        claim = parse_review_claim(raw)
        reviewer = proof_claims(claim.proof)
        self._may_hold(reviewer, claim)
        brief = self.brief
        if brief is None:
            return ReviewClaimed(held_by=None)
        hold = None
        if claim.action == "claim":
            until = workflow.now() + timedelta(seconds=HOLD_SECONDS)
            hold = ReviewHold(reviewer=reviewer.email, reviewer_id=reviewer.sub, until=until)
        self._publish(brief.model_copy(update={"held_by": hold}))
        return ReviewClaimed(held_by=hold)

    def _may_hold(self, reviewer: VerifiedReviewer, claim: ReviewClaim) -> None:
        brief = self.brief
        if brief is None:
            return
        if claim.action == "claim":
            self._not_held_by_another(brief, reviewer)
            self._second_reviewer(brief, reviewer)  # hold only what one may answer
            return
        hold = self._live_hold(brief)
        if hold is not None and hold.reviewer_id != reviewer.sub and not reviewer.senior:
            raise refusal(
                FORBIDDEN,
                f"only {hold.reviewer}, who holds it, or a senior reviewer releases this review",
            )

    # --- shared -------------------------------------------------------------------------

    def _still_waiting(self) -> None:
        if self.record is not None:
            raise refusal(
                ALREADY_ANSWERED,
                f"already answered: {self.record.decision.value} by {self.record.reviewer}",
            )
        if not self.waiting:
            raise refusal(NOT_AWAITING, "this onboarding is not waiting for a review")

    def _verified(
        self, proof: str | None, action: str, reason: str | None, note: str | None
    ) -> VerifiedReviewer:
        binding = AnswerBinding(workflow.info().workflow_id, action, reason, note)
        now = workflow.now()
        # The signature check's native code imports its error types when it first needs
        # them: through the sandbox's importer that aborted the worker (a forged proof was
        # enough), so it imports as the worker's own code does.
        with workflow.unsafe.imports_passed_through():
            return verify_proof(proof, binding, now, trusted_signers)

    def _live_hold(self, brief: ReviewBrief) -> ReviewHold | None:
        hold = brief.held_by
        return hold if hold is not None and hold.until > workflow.now() else None

    def _not_held_by_another(self, brief: ReviewBrief, reviewer: VerifiedReviewer) -> None:
        hold = self._live_hold(brief)
        if hold is not None and hold.reviewer_id != reviewer.sub:
            raise refusal(
                HELD,
                f"{hold.reviewer} holds this review until {hold.until:%H:%M} UTC; a senior "
                "reviewer can release it",
            )

    def _publish(self, brief: ReviewBrief) -> None:
        self.brief = brief
        workflow.upsert_memo({"review": brief.model_dump(mode="json")})


def _needs_second(brief: ReviewBrief, answer: ReviewAnswer) -> bool:
    return answer.decision is ReviewDecision.APPROVED and bool(brief.four_eyes)


def _record_of(answer: ReviewAnswer) -> ReviewRecord:
    if answer.proof is not None:  # the validator verified it
        verified = proof_claims(answer.proof)
        reviewer, reviewer_id = verified.email or verified.sub, verified.sub
    else:  # an answer recorded before reviewers were verified
        reviewer, reviewer_id = answer.reviewer or "unknown", None
    return ReviewRecord(
        decision=answer.decision,
        reviewer=reviewer,
        reviewer_id=reviewer_id,
        reason=answer.reason,
        note=answer.note,
        reviewed_at=workflow.now(),
    )
