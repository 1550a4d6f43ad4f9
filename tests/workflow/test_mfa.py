"""The MFA step's conversation, its activities stubbed: the code through update
`submit_otp`, another SMS through `resend_otp`, the validator's refusals, the attempts, the
deadline, two codes at once, and a code sent while no worker runs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.mfa import (
    Enrollment,
    OtpAnswer,
    OtpVerdict,
    ResendAnswer,
    SmsSent,
    StartEnrollmentInput,
)
from devstack.history import counts, events_of, patch_markers, stage_upserts
from devstack.watch import until_stage
from onboarding_client.contract.names import RESEND_OTP_UPDATE, SUBMIT_OTP_UPDATE
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import MfaResult, MfaStatus, OnboardingResult
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import start_onboarding
from tests.workflow.conftest import request
from tests.workflow.stubs import (
    APPROVED,
    CREATE_PROCESS,
    START_MFA_ENROLLMENT,
    TO_REVIEW,
    VERIFY_OTP,
    Fail,
    Hold,
    Script,
    StubbedWorker,
    stubbed_worker,
)

Handle = WorkflowHandle[Any, OnboardingResult]
MFA = {"mfa": {"enroll": True, "user_id": "auth0|maria"}}
PHONE = "+55 11 91234-5678"
WRONG = OtpVerdict(accepted=False, reason="invalid_otp")
RECOVERY = "RECOVERY-CODE-OF-THE-STUB"


def mfa_request(**options: Any) -> Any:
    built = request(**{**MFA, **options})
    return built.model_copy(update={"subject": built.subject.model_copy(update={"phone": PHONE})})


async def start_awaiting(
    env: WorkflowEnvironment, worker: StubbedWorker, script: Script | None = None, **options: Any
) -> Handle:
    worker.script = script or Script({CREATE_PROCESS: [APPROVED]})
    handle = await start_onboarding(env.client, mfa_request(**options), worker.queue)
    await until_stage(handle, Stage.AWAITING_OTP)
    return handle


async def submit(handle: Handle, answer: Any) -> OtpAnswer:
    answered: OtpAnswer = await handle.execute_update(
        SUBMIT_OTP_UPDATE, answer, result_type=OtpAnswer
    )
    return answered


async def refusal(handle: Handle, answer: Any) -> str | None:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await submit(handle, answer)
    cause = failed.value.cause
    return cause.type if isinstance(cause, ApplicationError) else None


def update_events(events: list[Any]) -> list[Any]:
    return [e for e in events if "UPDATE" in str(e.event_type)]


async def test_a_wrong_code_then_the_right_one_enrolls_the_person(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    script = Script({CREATE_PROCESS: [APPROVED], VERIFY_OTP: [WRONG]})
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(env, worker, script)
        wrong = await submit(handle, {"code": "000000"})
        right = await submit(handle, {"code": "123456"})
        result = await handle.result()
    assert wrong == OtpAnswer(accepted=False, reason="invalid_otp", attempts_left=4)
    assert right == OtpAnswer(accepted=True, recovery_code=RECOVERY)
    assert result.outcome == Outcome.APPROVED
    assert result.mfa == MfaResult(status=MfaStatus.ENROLLED)
    assert RECOVERY not in result.model_dump_json()  # the app has it once; the result never
    [person] = script.called(START_MFA_ENROLLMENT)
    assert StartEnrollmentInput.model_validate(person).phone == "5511912345678"
    assert [c["code"] for c in script.called(VERIFY_OTP)] == ["000000", "123456"]
    events = await events_of(handle)
    assert patch_markers(events) == []  # one path: no patch asked
    assert "awaiting_otp" in stage_upserts(events)


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({}, "field_required"),
        ({"code": ""}, "field_required"),
        (None, "field_required"),
        ({"code": "12345"}, "invalid_otp_format"),
        ({"code": "1234567"}, "invalid_otp_format"),
        ({"code": "12a456"}, "invalid_otp_format"),
        ({"code": "١٢٣٤٥٦"}, "invalid_otp_format"),  # digits, but not ASCII ones
        ({"code": 123456}, "invalid_otp_format"),
        ({"code": "123456", "extra": 1}, "invalid_otp_format"),
    ],
    ids=["no code", "empty", "no object", "short", "long", "letter", "arabic", "number", "extra"],
)
async def test_a_malformed_code_is_refused_before_history(
    env: WorkflowEnvironment, worker: StubbedWorker, answer: Any, code: str
) -> None:
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(env, worker)
        assert await refusal(handle, answer) == code
        events = await events_of(handle)
        await submit(handle, {"code": "123456"})
        await handle.result()
    assert update_events(events) == [], "a refused code leaves nothing in history"
    assert worker.script.called(VERIFY_OTP) == [{"sealed": "sealed-1", "code": "123456"}]


async def test_the_configured_number_of_digits(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(env, worker, mfa={**MFA["mfa"], "otp_digits": 8})
        assert await refusal(handle, {"code": "123456"}) == "invalid_otp_format"
        assert (await submit(handle, {"code": "12345678"})).accepted


async def test_a_code_when_no_enrollment_waits_is_refused(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    held = Hold(Enrollment(sealed="sealed-1"))
    worker.script = Script({CREATE_PROCESS: [APPROVED], START_MFA_ENROLLMENT: [held]})
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(env.client, mfa_request(), worker.queue)
        await asyncio.wait_for(held.started.wait(), 20)
        assert await refusal(handle, {"code": "123456"}) == "mfa.not_awaiting"  # no SMS yet
        held.release()
        await until_stage(handle, Stage.AWAITING_OTP)
        await submit(handle, {"code": "123456"})
        await handle.result()
    with pytest.raises(RPCError, match="completed"):  # an ended onboarding takes no update
        await submit(handle, {"code": "123456"})


async def test_the_attempts_run_out(env: WorkflowEnvironment, worker: StubbedWorker) -> None:
    script = Script({CREATE_PROCESS: [APPROVED], VERIFY_OTP: [WRONG] * 3})
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(env, worker, script, mfa={**MFA["mfa"], "max_attempts": 3})
        answers = [await submit(handle, {"code": "000000"}) for _ in range(3)]
        result = await handle.result()
    assert [a.attempts_left for a in answers] == [2, 1, 0]
    assert result.outcome == Outcome.APPROVED
    assert result.mfa is not None and result.mfa.status is MfaStatus.FAILED
    assert result.mfa.reason is not None and result.mfa.reason.code == "mfa.max_attempts"


async def test_a_code_sent_while_one_is_checked_is_refused_before_history(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    held = Hold(OtpVerdict(accepted=True, recovery_code=RECOVERY))
    script = Script({CREATE_PROCESS: [APPROVED], VERIFY_OTP: [held]})
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(env, worker, script)
        first = asyncio.create_task(submit(handle, {"code": "123456"}))
        await asyncio.wait_for(held.started.wait(), 20)
        assert await refusal(handle, {"code": "654321"}) == "mfa.busy"
        with pytest.raises(WorkflowUpdateFailedError) as resent:
            await handle.execute_update(RESEND_OTP_UPDATE, result_type=ResendAnswer)
        assert isinstance(resent.value.cause, ApplicationError)
        assert resent.value.cause.type == "mfa.busy"
        held.release()
        answer = await first
        result = await handle.result()
        events = await events_of(handle)
    assert answer == OtpAnswer(accepted=True, recovery_code=RECOVERY)
    assert len(script.called(VERIFY_OTP)) == 1, "one code reached Guardian"
    assert result.mfa == MfaResult(status=MfaStatus.ENROLLED)
    accepted = counts(events)["WORKFLOW_EXECUTION_UPDATE_ACCEPTED"]
    assert accepted == 1, "the refused code and resend wrote nothing"


async def test_the_deadline_ends_the_step_expired(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    handle = await start_awaiting(env, worker)
    await env.fast_forward(handle, timedelta(minutes=16))  # past the 15 min default
    result = await asyncio.wait_for(handle.result(), 30)
    assert result.outcome == Outcome.APPROVED
    assert result.mfa is not None and result.mfa.status is MfaStatus.EXPIRED
    assert result.mfa.reason is not None and result.mfa.reason.code == "mfa.deadline"


async def test_a_resend_over_the_sms_limit_says_when(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    limited = SmsSent(sent=False, reason="too_many_sms", retry_at="2026-12-02T10:00:00Z")
    script = Script({CREATE_PROCESS: [APPROVED], "send_otp_sms": [SmsSent(sent=True), limited]})
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(env, worker, script)
        sent = await handle.execute_update(RESEND_OTP_UPDATE, result_type=ResendAnswer)
        refused = await handle.execute_update(RESEND_OTP_UPDATE, result_type=ResendAnswer)
        await submit(handle, {"code": "123456"})
        await handle.result()
    assert sent == ResendAnswer(sent=True)
    assert (refused.sent, refused.reason) == (False, "too_many_sms")
    assert refused.retry_at is not None and refused.retry_at.hour == 10


async def test_an_expired_transaction_restarts_the_flow_on_the_next_resend(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    gone = OtpVerdict(accepted=False, reason="transaction_expired")
    script = Script(
        {
            CREATE_PROCESS: [APPROVED],
            START_MFA_ENROLLMENT: [Enrollment(sealed="sealed-1"), Enrollment(sealed="sealed-2")],
            VERIFY_OTP: [gone],
        }
    )
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(env, worker, script)
        expired = await submit(handle, {"code": "123456"})
        resent = await handle.execute_update(RESEND_OTP_UPDATE, result_type=ResendAnswer)
        accepted = await submit(handle, {"code": "654321"})
        result = await handle.result()
    assert (expired.accepted, expired.reason) == (False, "transaction_expired")
    assert resent == ResendAnswer(sent=True)
    assert accepted.accepted
    assert [c["sealed"] for c in script.called(VERIFY_OTP)] == ["sealed-1", "sealed-2"]
    assert len(script.called(START_MFA_ENROLLMENT)) == 2
    assert result.mfa == MfaResult(status=MfaStatus.ENROLLED)


async def test_a_person_already_enrolled_is_done(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script(
        {CREATE_PROCESS: [APPROVED], START_MFA_ENROLLMENT: [Enrollment(already_enrolled=True)]}
    )
    handle = await start_onboarding(env.client, mfa_request(), worker.queue)
    result = await handle.result()
    assert result.mfa is not None and result.mfa.status is MfaStatus.ALREADY_ENROLLED
    assert "awaiting_otp" not in stage_upserts(await events_of(handle))


async def test_a_refused_phone_fails_the_step_not_the_approval(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    refused = Fail("invalid_request", "invalid_phone_number", system="mfa")
    worker.script = Script({CREATE_PROCESS: [APPROVED], START_MFA_ENROLLMENT: [refused]})
    handle = await start_onboarding(env.client, mfa_request(), worker.queue)
    result = await handle.result()
    assert result.outcome == Outcome.APPROVED
    assert result.mfa is not None and result.mfa.status is MfaStatus.FAILED
    assert result.mfa.reason is not None and result.mfa.reason.code == "mfa.invalid_phone_number"


async def test_the_user_comes_from_the_registered_account(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(env, worker, account={"register": True}, mfa={"enroll": True})
        await submit(handle, {"code": "123456"})
        result = await handle.result()
    [person] = worker.script.called(START_MFA_ENROLLMENT)
    started = StartEnrollmentInput.model_validate(person)
    assert (started.user_id, started.account_uuid) == (None, "u-1")
    assert result.account is not None and result.mfa is not None
    assert result.mfa.status is MfaStatus.ENROLLED


@pytest.mark.parametrize(
    ("subject", "options"),
    [({"phone": None}, MFA), ({}, {"mfa": {"enroll": True}})],
    ids=["no phone", "no user and no account"],
)
async def test_a_request_without_what_mfa_needs_is_refused(
    env: WorkflowEnvironment, worker: StubbedWorker, subject: Any, options: Any
) -> None:
    built = mfa_request(**options)
    built = built.model_copy(update={"subject": built.subject.model_copy(update=subject)})
    worker.script = Script()
    result = await (await start_onboarding(env.client, built, worker.queue)).result()
    assert result.outcome == Outcome.INVALID_REQUEST
    assert [r.code for r in result.reasons] == ["mfa.field_required"]
    called = {name for name, _ in worker.script.calls}
    assert called == {"release_selfie"}, "refused before any call; the selfie still goes"


async def test_no_step_unless_approved(env: WorkflowEnvironment, worker: StubbedWorker) -> None:
    worker.script = Script({CREATE_PROCESS: [TO_REVIEW]})
    handle = await start_onboarding(env.client, mfa_request(), worker.queue)
    result = await handle.result()
    assert (result.outcome, result.mfa) == (Outcome.REVIEW, None)
    assert patch_markers(await events_of(handle)) == []


async def test_a_code_sent_while_no_worker_runs_is_answered_by_the_next(
    env: WorkflowEnvironment,
) -> None:
    with env.with_time_skipping_disabled():
        async with stubbed_worker(env.client) as first:
            handle = await start_awaiting(env, first)
        sent = asyncio.create_task(submit(handle, {"code": "123456"}))
        await asyncio.sleep(1.0)  # no worker: the update waits for one
        assert not sent.done()
        async with stubbed_worker(env.client, first.queue) as second:
            second.script = first.script
            answer = await asyncio.wait_for(sent, 30)
            result = await handle.result()
    assert answer == OtpAnswer(accepted=True, recovery_code=RECOVERY)
    assert result.mfa == MfaResult(status=MfaStatus.ENROLLED)
