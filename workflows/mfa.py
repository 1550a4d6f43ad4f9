"""The MFA step's conversation: the person's code comes back through update `submit_otp`.

After the SMS went out, the onboarding waits (stage `awaiting_otp`) until the person sends
the right code, runs out of attempts, or the step's deadline passes. The validator refuses,
before anything reaches history, with Guardian's own client-side codes: `field_required`
(no code) and `invalid_otp_format` (not the configured number of digits), and
`mfa.not_awaiting` when no enrollment waits. One code is checked at a time: two updates at
once take turns, and the second meets the first's verdict. `resend_otp` asks for another
SMS; when Guardian says the transaction is gone (the code or the flow expired), the next
resend starts a new flow, a bounded number of times. Deterministic: workflow code only.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.activity_calls import error_type_of, reason_for
    from workflows.models import (
        Enrollment,
        MfaOptions,
        MfaResult,
        MfaStatus,
        OtpAnswer,
        OtpCheck,
        OtpVerdict,
        Reason,
        ResendAnswer,
        SmsSent,
        StartEnrollmentInput,
    )
    from workflows.names import (
        SEND_OTP_SMS,
        START_MFA_ENROLLMENT,
        VERIFY_OTP,
        activity_task_queue,
    )
    from workflows.reactions import WORKFLOW_HANDLED
    from workflows.review import refused

NOT_AWAITING = "mfa.not_awaiting"
FIELD_REQUIRED = "field_required"
INVALID_OTP_FORMAT = "invalid_otp_format"
UNAVAILABLE = "mfa.unavailable"
INVALID_OTP = "invalid_otp"
TRANSACTION_EXPIRED = "transaction_expired"
ALREADY_ENROLLED = "already_enrolled"
MAX_FLOW_RESTARTS = 3  # new flows after an expired one, so a person cannot loop for ever
# A person waits on a screen: a call the retry policy cannot finish in this bound answers
# `mfa.unavailable` (try again), and the person's update never hangs on an outage.
INTERACTIVE_CALL_BUDGET = timedelta(seconds=30)
# Short, so that a call lost with its worker (kill -9) is retried on another within seconds.
INTERACTIVE_CALL_TIMEOUT = timedelta(seconds=10)
SUMMARIES = {
    START_MFA_ENROLLMENT: "start the MFA enrollment and send the code by SMS",
    SEND_OTP_SMS: "send the person another SMS",
    VERIFY_OTP: "check the person's code with Guardian",
}
INTERACTIVE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=5),
    non_retryable_error_types=WORKFLOW_HANDLED,
)


def parse_code(raw: Any, digits: int) -> str:
    """The person's code, or a refusal with Guardian's client-side code."""
    code = raw.get("code") if isinstance(raw, dict) else None
    if code is None or (isinstance(code, str) and not code.strip()):
        raise refused(FIELD_REQUIRED, 'send {"code": "<the code from the SMS>"} (field otpCode)')
    if (
        not isinstance(code, str)
        or len(code) != digits
        or not (code.isascii() and code.isdigit())
        or set(raw) != {"code"}
    ):
        raise refused(INVALID_OTP_FORMAT, f"code: a string of {digits} digits, and nothing else")
    return code


class OtpDesk:
    """The enrollment that waits for a code, the attempts spent, and the step's result."""

    def __init__(self) -> None:
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
        """For the validator: read-only."""
        self._check_waiting()
        return parse_code(raw, self.options.otp_digits)

    def check_resend(self) -> None:
        self._check_waiting()

    def _check_waiting(self) -> None:
        if not self.waiting:
            done = f" (the step ended {self.result.status.value})" if self.result else ""
            raise refused(NOT_AWAITING, f"no MFA enrollment waits for a code{done}")

    async def submit(self, raw: Any) -> OtpAnswer:
        """The handler's half: the code's verdict from Guardian, in turn."""
        code = self.check_code(raw)
        async with self._turn:
            self._check_waiting()  # the update before this one may have settled it
            assert self.enrollment is not None and self.enrollment.sealed is not None
            if self.transaction_gone:
                return OtpAnswer(accepted=False, reason=TRANSACTION_EXPIRED)
            verdict = await _interactive(
                VERIFY_OTP, OtpCheck(sealed=self.enrollment.sealed, code=code), OtpVerdict
            )
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
        self.check_resend()
        async with self._turn:
            self._check_waiting()
            assert self.enrollment is not None and self.enrollment.sealed is not None
            if not self.transaction_gone:
                sent = await _interactive(SEND_OTP_SMS, self.enrollment.sealed, SmsSent)
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
            enrollment = await _interactive(START_MFA_ENROLLMENT, self.person, Enrollment)
            if enrollment.already_enrolled:
                self._settle(OtpVerdict(accepted=False, reason=ALREADY_ENROLLED))
                return ResendAnswer(sent=False, reason=ALREADY_ENROLLED)
            self.enrollment, self.transaction_gone = enrollment, False
            return ResendAnswer(sent=True)


async def _interactive(name: str, arg: Any, result_type: type[Any]) -> Any:
    """One Guardian call for a person who waits: retried briefly, then `mfa.unavailable`
    (the app may try again; nothing was decided)."""
    try:
        return await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            task_queue=activity_task_queue(name, workflow.info().task_queue),
            start_to_close_timeout=INTERACTIVE_CALL_TIMEOUT,
            schedule_to_close_timeout=INTERACTIVE_CALL_BUDGET,
            retry_policy=INTERACTIVE_RETRY,
            summary=SUMMARIES[name],
        )
    except ActivityError as err:
        reason = reason_for(name, err)
        raise refused(
            UNAVAILABLE,
            f"Guardian could not answer ({reason.code}, {error_type_of(err)}): try again",
        ) from None
