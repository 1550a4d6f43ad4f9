"""A reviewer's answer (update `review`), the record the result keeps, and what a reviewer
sees of a waiting review (the memo's `review`).

`parse_review_answer` is the answer's rules, shared by the workflow's validator and the
callers that check an answer before sending it: it refuses with a `review.*` code.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from onboarding_client.contract.errors import refusal
from onboarding_client.contract.outcome import Outcome, Reason


class ReviewDecision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    RECAPTURE = "recapture"


OUTCOMES = {
    ReviewDecision.APPROVED: Outcome.APPROVED,
    ReviewDecision.REJECTED: Outcome.REJECTED,
    ReviewDecision.RECAPTURE: Outcome.RECAPTURE,
}
# An operator's id as directories and SSO systems write them: a login or an e-mail address.
REVIEWER_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._@+-]{0,62}[A-Za-z0-9])?")
NOTE_MAX_LENGTH = 500
REASON_CODE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
PROOF_MAX_LENGTH = 4096
NOT_AWAITING = "review.not_awaiting"
MALFORMED = "review.malformed"
ALREADY_ANSWERED = "review.already_answered"
HELD = "review.held"
SAME_REVIEWER = "review.same_reviewer"
SENIOR_REQUIRED = "review.senior_required"


class ReviewAnswer(BaseModel):
    """What the reviewers' console sends (update `review`): checked by the workflow's
    validator. `proof` names the verified reviewer (`contracts/review_proof.py`); a typed
    `reviewer` is what answers carried before reviewers were verified, kept for their
    histories and refused in a new answer."""

    model_config = ConfigDict(extra="forbid")

    decision: ReviewDecision
    reviewer: str | None = None
    reason: str | None = None
    note: str | None = None
    proof: str | None = None


class ReviewRecord(BaseModel):
    """The review as the result keeps it: who decided what, when, and why. `reviewer` is
    the verified login (an e-mail address) and `reviewer_id` the identity provider's subject;
    records from before verified reviewers have a typed `reviewer` and no `reviewer_id`.
    Where an approval needed four eyes, the final record is the second reviewer's and
    `first_review` the approval it confirmed or overruled."""

    decision: ReviewDecision
    reviewer: str
    reviewer_id: str | None = None
    reason: str | None = None
    note: str | None = None
    reviewed_at: datetime
    first_review: ReviewRecord | None = None


class ReviewSignals(BaseModel):
    """What Unico answered, as a reviewer weighs it (no personal data): `band` is the
    score's band under the request's bands."""

    unico_id: str | None = None
    liveness: int | None = None
    fraudster: str | None = None  # identityFraudsters' result
    serpro: int | None = None  # Serpro's similarity
    score: int | None = None
    band: str | None = None  # approve, review_positive, unbanded, review_negative, deny, zero


class ReviewHold(BaseModel):
    """Who holds a waiting review (opened it in the console), until when."""

    reviewer: str
    reviewer_id: str
    until: datetime


class ReviewAnswered(BaseModel):
    """The `review` update's answer: the outcome the reviewer's answer sets, and the record.
    A first approval that needs four eyes sets none yet: outcome `review`, `awaiting`
    `second_reviewer`."""

    outcome: Outcome
    review: ReviewRecord
    awaiting: str | None = None


class ReviewClaim(BaseModel):
    """What the console sends when a reviewer opens a review (`claim`) or lets it go
    (`release`): update `claim_review`, with the proof of who does it."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["claim", "release"]
    proof: str


class ReviewClaimed(BaseModel):
    """The `claim_review` update's answer: who holds the review now (None: nobody)."""

    held_by: ReviewHold | None


class ReviewBrief(BaseModel):
    """What a reviewer needs to decide, kept in the memo while the onboarding waits: Unico's
    signals, who holds the review, and a first approval waiting for a second reviewer."""

    reasons: list[Reason]
    score: int | None
    process_id: str | None
    waiting_since: datetime
    deadline: datetime
    signals: ReviewSignals | None = None
    attempts: int = 0  # Unico processes created, as the result counts them
    held_by: ReviewHold | None = None
    first_review: ReviewRecord | None = None
    four_eyes: list[str] = []  # why an approval needs a second reviewer (empty: it does not)


def parse_review_answer(raw: Any) -> ReviewAnswer:
    """The reviewer's answer, or `ApplicationError` with a `review.*` code saying what is wrong."""
    if not isinstance(raw, dict):
        raise refusal(MALFORMED, 'send {"decision", "reason"?, "note"?, "proof"} as JSON')
    try:
        answer = ReviewAnswer.model_validate(raw)
    except ValidationError as exc:
        field, message = _first_error(exc, "answer")
        code = "review.invalid_decision" if field == "decision" else MALFORMED
        choices = ", ".join(d.value for d in ReviewDecision)
        why = f"one of {choices}" if field == "decision" else message
        raise refusal(code, f"{field}: {why}") from None
    if answer.reviewer is not None and not REVIEWER_ID.fullmatch(answer.reviewer):
        raise refusal(
            "review.invalid_reviewer",
            "reviewer: an operator id of 1-64 letters, digits or . _ @ + - (no spaces)",
        )
    if answer.reason is not None and not REASON_CODE.fullmatch(answer.reason):
        raise refusal("review.invalid_reason", "reason: a reason code (a-z 0-9 . _ -, at most 64)")
    if answer.proof is not None and len(answer.proof) > PROOF_MAX_LENGTH:
        raise refusal(MALFORMED, f"proof: at most {PROOF_MAX_LENGTH} characters")
    note = answer.note
    if note is not None:
        if len(note) > NOTE_MAX_LENGTH:
            raise refusal("review.invalid_note", f"note: at most {NOTE_MAX_LENGTH} characters")
        if any(unicodedata.category(char)[0] == "C" for char in note):
            raise refusal("review.invalid_note", "note: no control or invisible characters")
        answer = answer.model_copy(update={"note": note.strip() or None})
    return answer


def parse_review_claim(raw: Any) -> ReviewClaim:
    """A hold's request, or `ApplicationError` `review.malformed` saying what is wrong."""
    if not isinstance(raw, dict):
        raise refusal(MALFORMED, 'send {"action": "claim" | "release", "proof"} as JSON')
    try:
        claim = ReviewClaim.model_validate(raw)
    except ValidationError as exc:
        field, message = _first_error(exc, "claim")
        raise refusal(MALFORMED, f"{field}: {message}") from None
    if len(claim.proof) > PROOF_MAX_LENGTH:
        raise refusal(MALFORMED, f"proof: at most {PROOF_MAX_LENGTH} characters")
    return claim


def _first_error(exc: ValidationError, whole: str) -> tuple[str, str]:
    """The first field a model refused (`whole` when the input itself), and why."""
    first = exc.errors(include_url=False, include_input=False)[0]
    return ".".join(str(part) for part in first["loc"]) or whole, str(first["msg"])
