"""The MFA step as the workflow and the app see it: the activities on the Guardian task
queue, the person's updates and their answers, and Guardian's client-side codes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from contracts.activity import contract, not_called

GUARDIAN = "guardian"
# Refusals of `submit_otp` and `resend_otp` before anything reaches history: Guardian's own
# client-side codes, and ours when no enrollment waits.
NOT_AWAITING = "mfa.not_awaiting"
# An update sent with arguments it does not take.
MALFORMED = "mfa.malformed"
# A code or a resend sent while a code is being checked.
BUSY = "mfa.busy"
FIELD_REQUIRED = "field_required"
INVALID_OTP_FORMAT = "invalid_otp_format"
UNAVAILABLE = "mfa.unavailable"
# Verdicts the person's app reads.
INVALID_OTP = "invalid_otp"
TRANSACTION_EXPIRED = "transaction_expired"
ALREADY_ENROLLED = "already_enrolled"


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


@contract("start_mfa_enrollment", system=GUARDIAN)
async def start_mfa_enrollment(person: StartEnrollmentInput) -> Enrollment:
    """A ticket, Guardian's flow, the first SMS."""
    raise not_called("start_mfa_enrollment")


@contract("send_otp_sms", system=GUARDIAN)
async def send_otp_sms(sealed: str) -> SmsSent:
    """Another SMS for the enrollment in flight."""
    raise not_called("send_otp_sms")


@contract("verify_otp", system=GUARDIAN)
async def verify_otp(check: OtpCheck) -> OtpVerdict:
    """Guardian's verdict on the person's code."""
    raise not_called("verify_otp")
