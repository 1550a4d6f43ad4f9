"""The result of an onboarding: the identity decision, and what each step after it reported.

`IdentityDecision` is what update `decision` answers; `OnboardingResult` adds the review,
the account and the MFA enrollment where those steps ran. A failed step never turns an
approved person into anything else: it reports in its own field.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

from onboarding_client.contract.outcome import Outcome, Reason
from onboarding_client.contract.request import SelfieKind
from onboarding_client.contract.review import ReviewRecord


class Decision(BaseModel):
    """The policy's verdict on one Unico answer: `outcome` is None while the process is not
    final; `retry_new_process` says a fresh Unico process could change the outcome."""

    outcome: Outcome | None
    reasons: list[Reason] = []
    retry_new_process: bool = False


class IdentityDecision(BaseModel):
    """The identity decision (update `decision`): the outcome, its reasons and Unico's facts,
    without the steps that may follow."""

    outcome: Outcome
    reasons: list[Reason] = []
    process_id: str | None = None
    unico_status: int | None = None
    unico_id: str | None = None
    score: int | None = None
    # Create requests sent to Unico, each a process Unico may hold (and bill); of them,
    # those whose answer was lost (a timeout, a worker killed with it out): processes the
    # onboarding never saw, to reconcile with Unico's bill.
    attempts: int = 0
    ambiguous_creates: int = 0
    # What Unico was given: "capture" (its SDK's, liveness checked) or "image" (none checked).
    selfie: SelfieKind | None = None


class AccountStatus(StrEnum):
    REGISTERED = "registered"  # created by this onboarding (perhaps by an earlier attempt)
    EXISTING = "existing"  # the person already had a record: adopted, not duplicated
    FAILED = "failed"  # `reason` says why; the identity outcome stays `approved`


class AccountResult(BaseModel):
    """The account step's result: `uuid` is the Identity Cloud record's."""

    status: AccountStatus
    uuid: str | None = None
    reason: Reason | None = None


class MfaStatus(StrEnum):
    ENROLLED = "enrolled"
    ALREADY_ENROLLED = "already_enrolled"  # the person had an enrollment: nothing to do
    EXPIRED = "expired"  # no right code before the step's deadline
    FAILED = "failed"  # `reason` says why; the identity outcome stays `approved`


class MfaResult(BaseModel):
    """The MFA step's result. It never carries the code or the recovery code."""

    status: MfaStatus
    method: Literal["sms"] = "sms"
    reason: Reason | None = None


class OnboardingResult(IdentityDecision):
    review: ReviewRecord | None = None  # where a reviewer settled the decision
    account: AccountResult | None = None  # where the account step ran
    mfa: MfaResult | None = None  # where the MFA step ran

    def identity(self) -> IdentityDecision:
        """The identity decision alone, without what the steps after it add."""
        return IdentityDecision.model_validate(
            self.model_dump(include=set(IdentityDecision.model_fields))
        )
