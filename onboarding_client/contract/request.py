"""The input of an onboarding: who, with which selfie, and the journey's options.

snake_case JSON, so that any Temporal client (the `temporal` CLI included) can start one.
The workflow takes its input as raw JSON and checks it itself (`workflows.requests`), so a
malformed request ends as `invalid_request` instead of failing a workflow task.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# A request is JSON from any client: exact types (`true` is no number of seconds, "5" no
# number at all), no infinities, and a field we do not know is refused by its name (a typo
# such as `mfa.enrol` would otherwise be ignored without a word).
# What an onboarding gave Unico: a plain image, or a capture of Unico's SDK (liveness).
SelfieKind = Literal["image", "capture"]

STRICT_JSON = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Subject(BaseModel):
    model_config = STRICT_JSON

    code: str = Field(description="CPF, 11 digits")
    name: str
    email: str | None = None
    phone: str | None = None


class PolicyBands(BaseModel):
    """Score bands, inclusive on both ends; defaults are Unico's published bands.

    A score outside every band (Unico documents none between -9 and -1 or 1 and 9) goes
    to review: a person decides what the table does not.
    """

    model_config = STRICT_JSON

    deny_max: int = -40
    review_negative_max: int = -10
    review_positive_min: int = 10
    approve_min: int = 50


class RetrySchedule(BaseModel):
    """Durable waits between the workflow's own retries: `initial`, growing to `max`."""

    model_config = STRICT_JSON

    initial_seconds: float = Field(gt=0)
    max_seconds: float = Field(gt=0)
    backoff: float = Field(default=2.0, ge=1)

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry` (0 for the first): it grows to `max_seconds`
        and stays there, however many retries (a blocked account may wait for weeks)."""
        if retry <= 0 or self.backoff == 1 or self.initial_seconds >= self.max_seconds:
            return float(min(self.initial_seconds, self.max_seconds))
        # The retry from which the wait is `max_seconds`: no power beyond it is computed.
        growth = math.log(self.max_seconds / self.initial_seconds) / math.log(self.backoff)
        if retry >= growth:
            return float(self.max_seconds)
        return float(min(self.initial_seconds * self.backoff**retry, self.max_seconds))


class ReviewOptions(BaseModel):
    """Whether a `review` decision waits for a person, and how long."""

    model_config = STRICT_JSON

    enabled: bool | None = None  # None: the deployment's default (`review_by_default`)
    deadline_seconds: float = Field(default=48 * 3600, gt=0)
    # What the onboarding ends as when nobody answered by the deadline.
    on_deadline: Literal["review", "rejected"] = "review"


class AccountOptions(BaseModel):
    """Whether an approved person gets an account in Identity Cloud, and how long the step
    may take (its own budget: a review may have outlasted the onboarding's deadline)."""

    # `register` in JSON; named otherwise here, since BaseModel has a `register` already.
    model_config = STRICT_JSON | ConfigDict(validate_by_name=True, serialize_by_alias=True)
    wanted: bool = Field(default=False, alias="register")
    deadline_seconds: float = Field(default=3600, gt=0)


class MfaOptions(BaseModel):
    """Whether an approved person enrolls their phone in Guardian MFA, as which Auth0 user
    (None: derived from the registered account), and how long the conversation may take."""

    model_config = STRICT_JSON

    enroll: bool = False
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    deadline_seconds: float = Field(default=15 * 60, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=10)
    # How many digits the person's code has (Guardian's SMS codes: 6).
    otp_digits: int = Field(default=6, ge=4, le=10)


class OnboardingOptions(BaseModel):
    """Per-onboarding tuning; the defaults suit production, tests shorten the timers."""

    model_config = STRICT_JSON

    # Upper bounds are checked where the request is read (`workflows.requests`).
    poll_initial_seconds: float = Field(default=2.0, gt=0)
    poll_max_seconds: float = Field(default=60.0, gt=0)
    poll_backoff: float = Field(default=2.0, ge=1)
    # How long the first read waits for Unico's webhook, which ends the wait when it comes:
    # None, the deployment's (UNICO_WEBHOOKS, UNICO_WEBHOOK_FIRST_READ_SECONDS); 0, no wait
    # for it (polling from `poll_initial_seconds`).
    webhook_wait_seconds: float | None = Field(default=None, ge=0)
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
    model_config = STRICT_JSON

    request_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    subject: Subject
    use_case: str = "Onboarding"
    subsidiary_id: str | None = None
    selfie_ref: str = Field(min_length=1)
    options: OnboardingOptions = OnboardingOptions()
