"""The MFA step: the approved person's phone enrolled in Guardian, by a code sent by SMS.

`start_mfa_enrollment` gets a ticket, starts Guardian's flow and sends the first SMS; then
the onboarding waits (stage `awaiting_otp`) until the person sends the right code through
update `submit_otp`, runs out of attempts, or the step's deadline passes. The validator
refuses, before anything reaches history, with Guardian's own client-side codes:
`field_required` (no code) and `invalid_otp_format` (not the configured number of digits),
and `mfa.not_awaiting` when no enrollment waits. One code is checked at a time: two updates
at once take turns, and the second meets the first's verdict. `resend_otp` asks for another
SMS; when Guardian says the transaction is gone (the code or the flow expired), the next
resend starts a new flow, a bounded number of times. A failure ends the step, never the
approval.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.mfa import (
        ALREADY_ENROLLED,
        BUSY,
        FIELD_REQUIRED,
        INVALID_OTP,
        INVALID_OTP_FORMAT,
        NOT_AWAITING,
        TRANSACTION_EXPIRED,
        UNAVAILABLE,
        Enrollment,
        OtpAnswer,
        OtpCheck,
        OtpVerdict,
        ResendAnswer,
        StartEnrollmentInput,
        send_otp_sms,
        start_mfa_enrollment,
        verify_otp,
    )
    from onboarding_client.contract.errors import refusal
    from onboarding_client.contract.outcome import Outcome, Reason
    from onboarding_client.contract.request import MfaOptions, OnboardingRequest
    from onboarding_client.contract.result import (
        AccountStatus,
        MfaResult,
        MfaStatus,
        OnboardingResult,
    )
    from onboarding_client.contract.status import Stage
    from workflows.calls import CallFailed, CallOptions, Calls, DeadlinePassed
    from workflows.journey import Journey
    from workflows.reactions import WORKFLOW_HANDLED

P = TypeVar("P")
R = TypeVar("R")

MAX_FLOW_RESTARTS = 3  # new flows after an expired one, so a person cannot loop for ever
# A person waits on a screen: a call the retry policy cannot finish within the budget
# answers `mfa.unavailable` (try again), and the person's update never hangs on an outage.
# Attempts are short, so that a call lost with its worker (kill -9) is retried within seconds.
INTERACTIVE = CallOptions(
    attempt=timedelta(seconds=10),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=5),
        non_retryable_error_types=WORKFLOW_HANDLED,
    ),
    budget=timedelta(seconds=30),
    react=False,
)
SUMMARIES = {
    "start": "start the MFA enrollment and send the code by SMS",
    "resend": "send the person another SMS",
    "verify": "check the person's code with Guardian",
}


def code_required() -> ApplicationError:
    """Guardian's client-side refusal of an answer without a code."""
    return refusal(FIELD_REQUIRED, 'send {"code": "<the code from the SMS>"} (field otpCode)')


def parse_code(raw: Any, digits: int) -> str:
    """The person's code, or a refusal with Guardian's client-side code."""
    code = raw.get("code") if isinstance(raw, dict) else None
    if code is None or (isinstance(code, str) and not code.strip()):
        raise code_required()
    if (
        not isinstance(code, str)
        or len(code) != digits
        or not (code.isascii() and code.isdigit())
        or set(raw) != {"code"}
    ):
        raise refusal(INVALID_OTP_FORMAT, f"code: a string of {digits} digits, and nothing else")
    return code


class OtpDesk:
    """The enrollment that waits for a code, the attempts spent, and the step's result."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.options = MfaOptions()
        self.person: StartEnrollmentInput | None = None  # who enrolls, for a new flow
        self.enrollment: Enrollment | None = None  # while a code is awaited
        self.result: MfaResult | None = None
        self.wrong_codes = 0
        self.transaction_gone = False  # the next resend starts a new flow
        self.flow_restarts = 0
        self._turn = asyncio.Lock()  # one Guardian call of the person's at a time

    @property
    def waiting(self) -> bool:
        return self.enrollment is not None and self.result is None

    @property
    def busy(self) -> bool:
        return self._turn.locked()

    def check_code(self, raw: Any) -> str:
        """For the validator: read-only. A code sent while another is being checked is
        refused here, before history: the one being checked may settle the enrollment."""
        self._check_waiting()
        self._check_free()
        return parse_code(raw, self.options.otp_digits)

    def check_resend(self) -> None:
        self._check_waiting()
        self._check_free()

    def _check_free(self) -> None:
        if self.busy:
            raise refusal(BUSY, "a code is being checked with Guardian: wait for its answer")

    def _check_waiting(self) -> None:
        if not self.waiting:
            done = f" (the step ended {self.result.status.value})" if self.result else ""
            raise refusal(NOT_AWAITING, f"no MFA enrollment waits for a code{done}")

    async def submit(self, raw: Any) -> OtpAnswer:
        """The handler's half: the code's verdict from Guardian, in turn."""
        # Not `check_code`: two codes validated in one activation may both be accepted, and
        # the second then waits its turn instead of failing after its acceptance.
        self._check_waiting()
        code = parse_code(raw, self.options.otp_digits)
        async with self._turn:
            self._check_waiting()  # the update before this one may have settled it
            assert self.enrollment is not None and self.enrollment.sealed is not None
            if self.transaction_gone:
                return OtpAnswer(accepted=False, reason=TRANSACTION_EXPIRED)
            check = OtpCheck(sealed=self.enrollment.sealed, code=code)
            verdict = await self._interactive(verify_otp, check, SUMMARIES["verify"])
            return self._settle(verdict)

    def _settle(self, verdict: OtpVerdict) -> OtpAnswer:
        if verdict.accepted:
            self.result = MfaResult(status=MfaStatus.ENROLLED)
            return OtpAnswer(accepted=True, recovery_code=verdict.recovery_code)
        if verdict.reason == ALREADY_ENROLLED:
            why = Reason(code="mfa.already_enrolled", message="the person was already enrolled")
            self.result = MfaResult(status=MfaStatus.ALREADY_ENROLLED, reason=why)
            return OtpAnswer(accepted=False, reason=ALREADY_ENROLLED)
        if verdict.reason == TRANSACTION_EXPIRED:
            self.transaction_gone = True
            return OtpAnswer(accepted=False, reason=TRANSACTION_EXPIRED)
        self.wrong_codes += 1
        left = max(self.options.max_attempts - self.wrong_codes, 0)
        if left == 0:
            words = f"{self.wrong_codes} wrong codes: no attempt left"
            self.result = MfaResult(
                status=MfaStatus.FAILED, reason=Reason(code="mfa.max_attempts", message=words)
            )
        return OtpAnswer(accepted=False, reason=INVALID_OTP, attempts_left=left)

    async def wait(self, seconds: float) -> MfaResult:
        """Until the conversation settles or `seconds` pass (`expired`); a code being checked
        at the deadline gets its verdict first. A cancellation raises."""
        with contextlib.suppress(TimeoutError):  # the deadline: the normal end of a wait
            await workflow.wait_condition(
                lambda: self.result is not None,
                timeout=timedelta(seconds=max(seconds, 0.001)),
                timeout_summary="wait for the person's code",
            )
        await workflow.wait_condition(lambda: not self.busy)
        if self.result is None:
            why = Reason(code="mfa.deadline", message="no right code before the step's deadline")
            self.result = MfaResult(status=MfaStatus.EXPIRED, reason=why)
        return self.result

    async def resend(self) -> ResendAnswer:
        """A new SMS; after an expired transaction, a new flow within MAX_FLOW_RESTARTS."""
        self._check_waiting()
        async with self._turn:
            self._check_waiting()
            assert self.enrollment is not None and self.enrollment.sealed is not None
            if not self.transaction_gone:
                sealed = self.enrollment.sealed
                sent = await self._interactive(send_otp_sms, sealed, SUMMARIES["resend"])
                if sent.reason != TRANSACTION_EXPIRED:
                    return ResendAnswer(sent=sent.sent, reason=sent.reason, retry_at=sent.retry_at)
                self.transaction_gone = True
            if self.flow_restarts >= MAX_FLOW_RESTARTS:
                words = f"the enrollment expired {self.flow_restarts + 1} times"
                self.result = MfaResult(
                    status=MfaStatus.EXPIRED, reason=Reason(code="mfa.expired", message=words)
                )
                return ResendAnswer(sent=False, reason=TRANSACTION_EXPIRED)
            self.flow_restarts += 1
            assert self.person is not None
            enrollment = await self._interactive(
                start_mfa_enrollment, self.person, SUMMARIES["start"]
            )
            if enrollment.already_enrolled:
                self._settle(OtpVerdict(accepted=False, reason=ALREADY_ENROLLED))
                return ResendAnswer(sent=False, reason=ALREADY_ENROLLED)
            self.enrollment, self.transaction_gone = enrollment, False
            return ResendAnswer(sent=True)

    async def _interactive(self, activity: Callable[[P], Awaitable[R]], arg: P, summary: str) -> R:
        """One Guardian call for a person who waits: retried briefly, then `mfa.unavailable`
        (the app may try again; nothing was decided)."""
        try:
            return await self.calls.run(activity, arg, summary, INTERACTIVE)
        except CallFailed as failed:
            raise refusal(
                UNAVAILABLE,
                f"Guardian could not answer ({failed.reason.code}, {failed.error_type}): try again",
            ) from None


class MfaStep:
    def __init__(self, journey: Journey) -> None:
        self._journey = journey
        self.desk = OtpDesk(journey.calls_until(0.0))

    def wanted(self, request: OnboardingRequest, result: OnboardingResult) -> bool:
        return result.outcome is Outcome.APPROVED and request.options.mfa.enroll

    async def run(self, request: OnboardingRequest, approved: OnboardingResult) -> OnboardingResult:
        """The first SMS, then the conversation until the right code or the deadline."""
        options, desk = request.options.mfa, self.desk
        calls = desk.calls = self._journey.calls_for(options.deadline_seconds)
        desk.options = options
        account = approved.account
        uuid = account.uuid if account and account.status is not AccountStatus.FAILED else None
        if options.user_id is None and uuid is None:
            why = Reason(code="mfa.no_user", message="no Auth0 user: the account step made none")
            return approved.model_copy(
                update={"mfa": MfaResult(status=MfaStatus.FAILED, reason=why)}
            )
        assert request.subject.phone is not None  # the request's rules ask for it
        person = StartEnrollmentInput(
            user_id=options.user_id, account_uuid=uuid, phone=request.subject.phone
        )
        desk.person = person
        try:
            enrollment = await calls.run(start_mfa_enrollment, person, SUMMARIES["start"])
            if enrollment.already_enrolled:
                why = Reason(code="mfa.already_enrolled", message="the person was already enrolled")
                mfa = MfaResult(status=MfaStatus.ALREADY_ENROLLED, reason=why)
            else:
                desk.enrollment = enrollment
                self._journey.progress.enter(Stage.AWAITING_OTP)
                mfa = await desk.wait(calls.remaining())
        except CallFailed as failed:
            mfa = MfaResult(status=MfaStatus.FAILED, reason=failed.reason)
        except DeadlinePassed:
            why = Reason(code="mfa.deadline", message="no enrollment before the step's deadline")
            mfa = MfaResult(status=MfaStatus.EXPIRED, reason=why)
        desk.result = desk.result or mfa
        return approved.model_copy(update={"mfa": mfa})
