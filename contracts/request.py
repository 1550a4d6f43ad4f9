"""The input of an onboarding: who, with which selfie, and the journey's options.

snake_case JSON, so that any Temporal client (the `temporal` CLI included) can start one.
The workflow takes its input as raw JSON and checks it itself (`workflows.requests`), so a
malformed request ends as `invalid_request` instead of failing a workflow task.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Subject(BaseModel):
    code: str = Field(description="CPF, 11 digits")
    name: str
    email: str | None = None
    phone: str | None = None


class PolicyBands(BaseModel):
    """Score bands, inclusive on both ends; defaults are Unico's published bands.

    A score outside every band (Unico documents none between -9 and -1 or 1 and 9) goes
    to review: a person decides what the table does not.
    """

    deny_max: int = -40
    review_negative_max: int = -10
    review_positive_min: int = 10
    approve_min: int = 50


class RetrySchedule(BaseModel):
    """Durable waits between the workflow's own retries: `initial`, growing to `max`."""

    initial_seconds: float = Field(gt=0)
    max_seconds: float = Field(gt=0)
    backoff: float = Field(default=2.0, ge=1)

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry` (0 for the first)."""
        return float(min(self.initial_seconds * self.backoff**retry, self.max_seconds))


class ReviewOptions(BaseModel):
    """Whether a `review` decision waits for a person, and how long."""

    enabled: bool | None = None  # None: the deployment's default (`review_by_default`)
    deadline_seconds: float = Field(default=48 * 3600, gt=0)
    # What the onboarding ends as when nobody answered by the deadline.
    on_deadline: Literal["review", "rejected"] = "review"


class AccountOptions(BaseModel):
    """Whether an approved person gets an account in Identity Cloud, and how long the step
    may take (its own budget: a review may have outlasted the onboarding's deadline)."""

    # `register` in JSON; named otherwise here, since BaseModel has a `register` already.
    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)
    wanted: bool = Field(default=False, alias="register")
    deadline_seconds: float = Field(default=3600, gt=0)


class MfaOptions(BaseModel):
    """Whether an approved person enrolls their phone in Guardian MFA, as which Auth0 user
    (None: derived from the registered account), and how long the conversation may take."""

    enroll: bool = False
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    deadline_seconds: float = Field(default=15 * 60, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=10)
    # How many digits the person's code has (Guardian's SMS codes: 6).
    otp_digits: int = Field(default=6, ge=4, le=10)


class OnboardingOptions(BaseModel):
    """Per-onboarding tuning; the defaults suit production, tests shorten the timers."""

    # Upper bounds are checked where the request is read (`workflows.requests`).
    poll_initial_seconds: float = Field(default=2.0, gt=0)
    poll_max_seconds: float = Field(default=60.0, gt=0)
    poll_backoff: float = Field(default=2.0, ge=1)
    deadline_seconds: float = Field(default=24 * 3600, gt=0)
    max_process_attempts: int = Field(default=3, ge=1)
    bands: PolicyBands = PolicyBands()
    # Waits while an operator fixes the account (configuration) or a lock-out runs out.
    configuration_retry: RetrySchedule = RetrySchedule(initial_seconds=60, max_seconds=1800)
    locked_retry: RetrySchedule = RetrySchedule(initial_seconds=300, max_seconds=1800)
    review: ReviewOptions = ReviewOptions()
    account: AccountOptions = AccountOptions()
    mfa: MfaOptions = MfaOptions()


class OnboardingRequest(BaseModel):
    request_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    subject: Subject
    use_case: str = "Onboarding"
    subsidiary_id: str | None = None
    selfie_ref: str = Field(min_length=1)
    options: OnboardingOptions = OnboardingOptions()
