"""The data contract between callers, the Onboarding workflow and its activities.

Input and result use snake_case JSON so that any Temporal client (the `temporal` CLI
included) can start an onboarding and read its result. Unico's own camelCase shapes appear
only in `UnicoProcess`, which parses `POST/GET /processes/v1` answers.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    REVIEW = "review"
    RECAPTURE = "recapture"
    INVALID_REQUEST = "invalid_request"
    CANCELED = "canceled"
    ERROR = "error"
    EXPIRED = "expired"


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


class ProcessStatus(IntEnum):
    """Unico's process status codes."""

    PROCESSING = 1
    IN_ANALYSIS = 2
    FINISHED = 3
    CANCELED = 4
    ERROR = 5


FINAL_STATUSES = frozenset({ProcessStatus.FINISHED, ProcessStatus.CANCELED, ProcessStatus.ERROR})


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

    enabled: bool | None = None  # None: the deployment's default (REVIEW_BY_DEFAULT)
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

    # Upper bounds are checked in `workflows.requests` (behind a patch, for old histories).
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


class Reason(BaseModel):
    """Why the decision is what it is: a stable code and words for a reviewer."""

    code: str
    message: str


class Decision(BaseModel):
    """`outcome` is None while the process is not final; `retry_new_process` says a fresh
    Unico process could change the outcome (status 5, a dropped score)."""

    outcome: Outcome | None
    reasons: list[Reason] = []
    retry_new_process: bool = False


class UnicoResult(BaseModel):
    result: Literal["yes", "no", "inconclusive"] | str


class Government(BaseModel):
    serpro: int | None = None


class UnicoProcess(BaseModel):
    """A `POST /processes/v1` or `GET /processes/v1/{id}` answer."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    status: int
    unico_id: UnicoResult | None = Field(default=None, alias="unicoId")
    liveness: int | None = None
    identity_fraudsters: UnicoResult | None = Field(default=None, alias="identityFraudsters")
    score: int | None = None
    government: Government | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_settled(self) -> bool:
        """Final, and no decision on it asks for a new process, so no create needs the
        selfie again: `policy.decide` retries only status 5 and an inconclusive answer
        whose score never came (a test keeps the two in step)."""
        if self.status == ProcessStatus.CANCELED:
            return True
        if self.status != ProcessStatus.FINISHED:
            return False
        inconclusive = self.unico_id is not None and self.unico_id.result == "inconclusive"
        return not (inconclusive and self.liveness != 2 and self.score is None)


class CreateProcessInput(BaseModel):
    subject: Subject
    use_case: str
    subsidiary_id: str | None
    selfie_ref: str
    # Release the selfie when the answer settles the process (`selfie-with-last-call`).
    release_when_settled: bool = False


class SelfieRelease(BaseModel):
    """What became of the selfie when its onboarding ended: deleted, or kept a while."""

    deleted: bool
    keep_seconds: float = 0


class SelfieCheck(BaseModel):
    """What the selfie inspection found: `code` is the Unico code it stands for."""

    ok: bool
    code: int | None = None
    message: str | None = None


class OpenedProcess(BaseModel):
    """`open_process`'s answer: the selfie refused before any call (`refused`), or the
    process Unico created."""

    refused: SelfieCheck | None = None
    process: UnicoProcess | None = None
    release: SelfieRelease | None = None  # the selfie's end, when the answer settled it


class ReadProcessInput(BaseModel):
    """`read_process`: the process to read, and the selfie it releases once settled."""

    process_id: str
    selfie_ref: str


class ReadProcess(BaseModel):
    """`read_process`'s answer: the process, and the selfie's end if the answer settled it
    (None: the selfie stays, for a new process or for the onboarding's end)."""

    process: UnicoProcess
    release: SelfieRelease | None = None


class TokenInfo(BaseModel):
    """What `acquire_token` tells the workflow: never the token itself."""

    expires_in_seconds: float
    refreshed: bool


class ReviewDecision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    RECAPTURE = "recapture"


class ReviewAnswer(BaseModel):
    """What a reviewer sends (update `review`): checked by the workflow's validator."""

    model_config = ConfigDict(extra="forbid")

    decision: ReviewDecision
    reviewer: str
    note: str | None = None


class ReviewRecord(ReviewAnswer):
    """The review as the result keeps it: who decided what, when, and why."""

    reviewed_at: datetime


class ReviewAnswered(BaseModel):
    """The `review` update's answer: the outcome the reviewer's answer sets, and the record."""

    outcome: Outcome
    review: ReviewRecord


class IdentityDecision(BaseModel):
    """The identity decision (update `decision`): the outcome, its reasons and Unico's facts,
    without the steps that may follow."""

    outcome: Outcome
    reasons: list[Reason] = []
    process_id: str | None = None
    unico_status: int | None = None
    unico_id: str | None = None
    score: int | None = None
    attempts: int = 0


class AccountStatus(StrEnum):
    REGISTERED = "registered"  # created by this onboarding (perhaps by an earlier attempt)
    EXISTING = "existing"  # the person already had a record: adopted, not duplicated
    FAILED = "failed"  # `reason` says why; the identity outcome stays `approved`


class AccountResult(BaseModel):
    """The account step's result: `uuid` is the Identity Cloud record's."""

    status: AccountStatus
    uuid: str | None = None
    reason: Reason | None = None


class RegisterAccountInput(BaseModel):
    """What the account step sends: the person, and the onboarding as provenance."""

    request_id: str
    subject: Subject


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


class StartEnrollmentInput(BaseModel):
    """Who enrolls, and where the code goes: the Auth0 user id as the request gave it, or
    the registered account's uuid to derive it from (the deployment's template)."""

    user_id: str | None = None
    account_uuid: str | None = None
    phone: str


class Enrollment(BaseModel):
    """A started enrollment. `sealed` is the Guardian transaction (token, device account,
    recovery code) sealed by the activity with a key only the workers hold: the workflow
    carries it without being able to read it."""

    already_enrolled: bool = False
    sealed: str | None = None


class OtpCheck(BaseModel):
    sealed: str
    code: str


class OtpVerdict(BaseModel):
    """Guardian's verdict on one code: `reason` `invalid_otp`, `transaction_expired`
    (the code or the transaction timed out: a resend starts again) or `already_enrolled`."""

    accepted: bool
    reason: str | None = None
    recovery_code: str | None = None


class SmsSent(BaseModel):
    """A resend's outcome: `reason` `too_many_sms` with `retry_at`, or `transaction_expired`."""

    sent: bool
    reason: str | None = None
    retry_at: datetime | None = None


class OtpAnswer(BaseModel):
    """What update `submit_otp` answers the app."""

    accepted: bool
    recovery_code: str | None = None  # once, with the accepted code
    reason: str | None = None
    attempts_left: int | None = None


class ResendAnswer(BaseModel):
    """What update `resend_otp` answers the app."""

    sent: bool
    reason: str | None = None
    retry_at: datetime | None = None


class OnboardingResult(IdentityDecision):
    review: ReviewRecord | None = None  # where a reviewer settled the decision
    account: AccountResult | None = None  # where the account step ran
    mfa: MfaResult | None = None  # where the MFA step ran

    def identity(self) -> IdentityDecision:
        """The identity decision alone, without what the steps after it add."""
        return IdentityDecision.model_validate(
            self.model_dump(include=set(IdentityDecision.model_fields))
        )


class ReviewBrief(BaseModel):
    """What a reviewer needs to decide, kept in the memo while the onboarding waits."""

    reasons: list[Reason]
    score: int | None
    process_id: str | None
    waiting_since: datetime
    deadline: datetime


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


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
