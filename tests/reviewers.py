"""The reviewers of the tests: a fixed console key that every test worker trusts, the
three people of the sandbox's identity provider, and answers signed as the console signs
them (`contracts/review_proof.py`)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.review_proof import (
    AnswerBinding,
    VerifiedReviewer,
    public_key_text,
    sign_proof,
)
from onboarding_client.contract.names import workflow_id_for
from onboarding_client.contract.review import ReviewAnswer, ReviewDecision

TEST_CONSOLE_KEY_ID = "test-console-1"
# Derived from a label: the same in every run, never a secret.
TEST_CONSOLE_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"onboarding test console key").digest()
)
TEST_SIGNER_KEYS = public_key_text(TEST_CONSOLE_KEY_ID, TEST_CONSOLE_KEY)

ANA = VerifiedReviewer("auth0|ana", "ana@reviewers.example", "Ana Souza", frozenset({"reviewer"}))
BRUNO = VerifiedReviewer(
    "auth0|bruno", "bruno@reviewers.example", "Bruno Lima", frozenset({"senior_reviewer"})
)
CARLA = VerifiedReviewer("auth0|carla", "carla@support.example", "Carla Dias", frozenset())
REVIEWERS = {"ana": ANA, "bruno": BRUNO, "carla": CARLA}


def signed_answer(
    request_id: str,
    decision: ReviewDecision | str,
    reviewer: VerifiedReviewer = ANA,
    *,
    reason: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
    key: Ed25519PrivateKey = TEST_CONSOLE_KEY,
    key_id: str = TEST_CONSOLE_KEY_ID,
) -> ReviewAnswer:
    """The answer the console sends for `reviewer` on the onboarding of `request_id`."""
    decision = ReviewDecision(decision)
    binding = AnswerBinding(workflow_id_for(request_id), decision.value, reason, note)
    proof = sign_proof(key, key_id, reviewer, binding, now or datetime.now(UTC))
    return ReviewAnswer(decision=decision, reason=reason, note=note, proof=proof)


def signed_body(
    workflow_id: str,
    decision: ReviewDecision | str,
    reviewer: VerifiedReviewer = ANA,
    **more: Any,
) -> dict[str, Any]:
    """`signed_answer` for the onboarding of `workflow_id`, as the update's JSON body."""
    request_id = workflow_id.removeprefix(workflow_id_for(""))
    answer = signed_answer(request_id, decision, reviewer, **more)
    return answer.model_dump(mode="json", exclude_none=True)


def signed_claim(
    workflow_id: str, action: str, reviewer: VerifiedReviewer = ANA, *, now: datetime | None = None
) -> dict[str, Any]:
    """The console's `claim_review` body: `claim` or `release`, for `reviewer`."""
    binding = AnswerBinding(workflow_id, action, None, None)
    proof = sign_proof(
        TEST_CONSOLE_KEY, TEST_CONSOLE_KEY_ID, reviewer, binding, now or datetime.now(UTC)
    )
    return {"action": action, "proof": proof}
