"""Where an onboarding is: its stage (the `OnboardingStage` search attribute), the `status`
query's answer, and what a continue-as-new hands to the next run."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from onboarding_client.contract.outcome import Outcome, Reason
from onboarding_client.contract.request import SelfieKind


class Stage(StrEnum):
    """Where an onboarding is; shown as the `OnboardingStage` search attribute."""

    VALIDATING = "validating"
    AUTHENTICATING = "authenticating"
    CREATING = "creating"
    WAITING = "waiting"
    DECIDED = "decided"
    # An operator must act; the onboarding retries slowly and heals once they have.
    BLOCKED_CONFIGURATION = "blocked_configuration"
    BLOCKED_LOCKED = "blocked_locked"
    # Unico left the decision to the client: a reviewer settles it (update `review`).
    AWAITING_REVIEW = "awaiting_review"
    # The approved person's account is being created in Identity Cloud.
    REGISTERING = "registering"
    # The approved person has an SMS code: the app sends it back (update `submit_otp`).
    AWAITING_OTP = "awaiting_otp"


class OnboardingStatus(BaseModel):
    """Answer of the `status` query."""

    stage: Stage
    unico_status: int | None = None
    process_id: str | None = None
    attempts: int = 0
    polls: int = 0
    outcome: Outcome | None = None
    blocked_by: Reason | None = None  # the error an operator must fix, while blocked
    ambiguous_creates: int = 0  # creates that got no answer: Unico may hold a process
    review_deadline: datetime | None = None  # while a review waits: when it is due
    selfie: SelfieKind | None = None  # once the create read it: a plain image or a capture


class Carry(BaseModel):
    """State handed over by continue-as-new, so the new run resumes where the old stopped."""

    deadline_epoch: float
    attempts: int
    process_id: str
    polls: int
    next_delay_seconds: float
    ambiguous_creates: int = 0
    wake_now: bool = False  # a webhook came during the last read: read again at once
    unico_status: int | None = None  # the last status read, for the `status` query
    selfie: SelfieKind | None = None
