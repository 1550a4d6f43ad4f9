"""The MFA step's activities: start an enrollment, send another SMS, check a code.

Each reads Guardian's codes where they mean something to the conversation rather than to
the retry policy: `invalid_otp` is the person's typo (a verdict, not an error),
`too_many_sms` on a person's resend is an answer with when to try again (never retried
blindly), `enrollment_transaction_not_found` means the code or the flow expired (the next
resend starts a new flow), `enrollment_conflict` means the person is enrolled already.
Everything else is raised, classified, for the retry policy and the workflow's reactions.

A confirmation whose answer was lost (the worker killed mid-call, a dropped connection)
is retried and meets a finished transaction: before calling that expired, the activity
asks Auth0 whether the person is enrolled now (a new ticket's flow says `confirmed`), so
the person hears "accepted" and nobody enrolls twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.guardian.calls import code_of
from activities.guardian.enrollment_api import Flow, GuardianApi
from activities.guardian.management import ManagementApi
from activities.guardian.sealing import SealBroken, TransactionSeal
from contracts.activity import implements
from contracts.mfa import (
    Enrollment,
    OtpCheck,
    OtpVerdict,
    SmsSent,
    StartEnrollmentInput,
    send_otp_sms,
    start_mfa_enrollment,
    verify_otp,
)
from onboarding_client.contract.errors import ErrorClass

NOT_CONFIGURED = (
    "Guardian is not configured: set AUTH0_TENANT_URL, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET "
    "(or _FILE) and GUARDIAN_URL on the workers"
)
GONE = "enrollment_transaction_not_found"
CONFLICT = "enrollment_conflict"


def e164(digits: str) -> str:
    """The request's phone digits (DDD and number, perhaps with 55) as Guardian wants them."""
    return f"+55{digits}" if len(digits) <= 11 else f"+{digits}"


class MfaActivities:
    def __init__(
        self,
        management: ManagementApi | None,
        guardian: GuardianApi | None,
        seal: TransactionSeal,
        user_id_template: str,
    ) -> None:
        self._management = management  # None: the deployment has no Guardian settings
        self._guardian = guardian
        self._seal = seal
        self._user_id_template = user_id_template

    def all(self) -> Sequence[Callable[..., Any]]:
        return [self.start_mfa_enrollment, self.send_otp_sms, self.verify_otp]

    def _apis(self) -> tuple[ManagementApi, GuardianApi]:
        if self._management is None or self._guardian is None:
            # An operator must act: the onboarding waits in blocked_configuration.
            raise ApplicationError(NOT_CONFIGURED, type=ErrorClass.CONFIGURATION.value)
        return self._management, self._guardian

    @implements(start_mfa_enrollment)
    async def start_mfa_enrollment(self, person: StartEnrollmentInput) -> Enrollment:
        """A ticket, the flow, the first SMS. Each attempt starts from a new ticket (a ticket
        is single use), so a retry after a lost answer is safe."""
        _, guardian = self._apis()
        user_id = person.user_id or self._user_id_template.format(uuid=person.account_uuid)
        flow = await self._start_flow(user_id)
        if flow.confirmed:
            return Enrollment(already_enrolled=True)
        assert flow.device_id and flow.transaction_token
        phone = e164(person.phone)
        try:
            await guardian.send_sms(flow.device_id, flow.transaction_token, phone)
        except ApplicationError as refused:
            if code_of(refused) == CONFLICT:
                return Enrollment(already_enrolled=True)
            raise
        secret = {
            "transaction_token": flow.transaction_token,
            "device_id": flow.device_id,
            "recovery_code": flow.recovery_code,
            "user_id": user_id,
            "phone": phone,
        }
        return Enrollment(sealed=self._seal.seal(secret, activity.info().workflow_id or ""))

    @implements(send_otp_sms)
    async def send_otp_sms(self, sealed: str) -> SmsSent:
        _, guardian = self._apis()
        secret = self._open(sealed)
        try:
            device, token, phone = secret["device_id"], secret["transaction_token"], secret["phone"]
            await guardian.send_sms(device, token, phone)
        except ApplicationError as refused:
            code = code_of(refused)
            if code is not None and code.startswith("too_many_sms"):
                wait = refused.next_retry_delay or timedelta(minutes=1)
                return SmsSent(sent=False, reason=code, retry_at=datetime.now(UTC) + wait)
            if code == GONE:
                return SmsSent(sent=False, reason="transaction_expired")
            if code == CONFLICT:
                return SmsSent(sent=False, reason="already_enrolled")
            raise
        return SmsSent(sent=True)

    @implements(verify_otp)
    async def verify_otp(self, check: OtpCheck) -> OtpVerdict:
        _, guardian = self._apis()
        secret = self._open(check.sealed)
        try:
            await guardian.verify(secret["transaction_token"], check.code)
        except ApplicationError as refused:
            code = code_of(refused)
            if code == "invalid_otp":
                return OtpVerdict(accepted=False, reason="invalid_otp")
            if code == CONFLICT:
                return OtpVerdict(accepted=False, reason="already_enrolled")
            if code != GONE:
                raise
            if not await self._enrolled(secret["user_id"]):
                return OtpVerdict(accepted=False, reason="transaction_expired")
            # An earlier attempt confirmed it and its answer was lost.
            activity.logger.info("verify-otp: the enrollment was confirmed by an earlier attempt")
        return OtpVerdict(accepted=True, recovery_code=secret.get("recovery_code"))

    async def _enrolled(self, user_id: str) -> bool:
        return (await self._start_flow(user_id)).confirmed

    async def _start_flow(self, user_id: str) -> Flow:
        """A new ticket for the user, and Guardian's flow started with it."""
        management, guardian = self._apis()
        return await guardian.start_flow(await management.ticket(user_id))

    def _open(self, sealed: str) -> dict[str, Any]:
        try:
            return self._seal.open(sealed, activity.info().workflow_id or "")
        except SealBroken as exc:
            raise ApplicationError(
                str(exc), type=ErrorClass.PERMANENT.value, non_retryable=True
            ) from None
