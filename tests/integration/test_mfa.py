"""The MFA step for real: the worker's Guardian activities against the sandbox's Auth0 and
Guardian over HTTP, on the session's server. The code is read from the sandbox's SMS inbox,
as a person reads their phone; the enrollments are counted (never two for a person)."""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.selfies.local_store import SelfieStore
from contracts.mfa import OtpAnswer
from devstack.history import events_of
from devstack.watch import until_stage
from onboarding.temporal.otp import resend_code, submit_code
from onboarding.temporal.step_updates import UpdateRefused
from onboarding_client.contract.names import RETRY_NOW_SIGNAL
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import MfaStatus, OnboardingResult
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import start_onboarding
from tests.integration.onboard import request
from tests.support import AUTH0_SECRET, Sandbox

Handle = WorkflowHandle[Any, OnboardingResult]
_phones = itertools.count(random.randrange(10**4, 10**6) * 10 + 5)  # never ends 0001-0003


def new_phone(ending: str | None = None) -> tuple[str, str]:
    """A phone of the test's own: as the request gives it, and as Guardian receives it."""
    number = f"119{next(_phones):08d}"[:11]
    if ending:
        number = number[:-4] + ending
    return number, f"+55{number}"


@pytest.fixture(autouse=True)
def clean_faults(sandbox: Sandbox) -> Any:
    yield
    sandbox.clear_faults()
    sandbox.configure(auth0_client_secret=AUTH0_SECRET)


async def start(
    client: Client, settings: Any, selfies: SelfieStore, phone: str, **mfa: Any
) -> Handle:
    options = {"enroll": True, "user_id": f"auth0|{phone}", **mfa}
    onboarding = request(selfies, "12345678909", mfa=options)
    subject = onboarding.subject.model_copy(update={"phone": phone})
    onboarding = onboarding.model_copy(update={"subject": subject})
    return await start_onboarding(client, onboarding, settings.task_queue)


async def start_awaiting(
    client: Client, settings: Any, selfies: SelfieStore, phone: str, **mfa: Any
) -> Handle:
    """An onboarding whose SMS went out: it waits for the person's code."""
    handle = await start(client, settings, selfies, phone, **mfa)
    await until_stage(handle, Stage.AWAITING_OTP)
    return handle


def request_id(handle: Handle) -> str:
    return handle.id.removeprefix("onboarding-")


def enrollments_of(sandbox: Sandbox, e164: str) -> list[dict[str, Any]]:
    return [e for e in sandbox.enrollments() if e["phone"] == e164]


async def test_the_person_s_code_from_the_sms_enrolls_the_phone(
    env: WorkflowEnvironment, client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    phone, e164 = new_phone()
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(client, settings, selfies, phone)
        code = sandbox.last_code(e164)
        wrong = "000000" if code != "000000" else "111111"
        typo = await submit_code(client, request_id(handle), wrong)
        accepted = await submit_code(client, request_id(handle), code)
        result = await handle.result()
    assert (typo.accepted, typo.reason, typo.attempts_left) == (False, "invalid_otp", 4)
    assert accepted.accepted and accepted.recovery_code and len(accepted.recovery_code) == 24
    assert result.outcome == Outcome.APPROVED
    assert result.mfa is not None and result.mfa.status is MfaStatus.ENROLLED
    assert len(enrollments_of(sandbox, e164)) == 1
    # The code and the recovery code travel only in encrypted payloads.
    raw = str(await events_of(handle))
    assert code not in raw and accepted.recovery_code not in raw


async def test_a_resend_sends_a_new_code_and_the_old_one_stops_working(
    env: WorkflowEnvironment, client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    phone, e164 = new_phone()
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(client, settings, selfies, phone)
        first = sandbox.last_code(e164)
        sent = await resend_code(client, request_id(handle))
        second = sandbox.last_code(e164)
        assert sent.sent and len(sandbox.sms(e164)) == 2
        if first != second:
            stale = await submit_code(client, request_id(handle), first)
            assert (stale.accepted, stale.reason) == (False, "invalid_otp")
        assert (await submit_code(client, request_id(handle), second)).accepted
        assert (await handle.result()).mfa.status is MfaStatus.ENROLLED  # type: ignore[union-attr]


async def test_the_sms_limit_is_answered_with_when_to_try_again(
    env: WorkflowEnvironment, client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    sandbox.configure(guardian_sms_per_hour=2)
    try:
        phone, e164 = new_phone()
        with env.with_time_skipping_disabled():
            handle = await start(client, settings, selfies, phone)
            await until_stage(handle, Stage.AWAITING_OTP)
            assert (await resend_code(client, request_id(handle))).sent
            limited = await resend_code(client, request_id(handle))
            assert (limited.sent, limited.reason) == (False, "too_many_sms")
            assert limited.retry_at is not None
            assert len(sandbox.sms(e164)) == 2, "the refused resend was not retried blindly"
            await submit_code(client, request_id(handle), sandbox.last_code(e164))
            await handle.result()
    finally:
        sandbox.configure(guardian_sms_per_hour=10)


@pytest.mark.parametrize(
    ("ending", "status", "reason"),
    [
        ("0002", MfaStatus.FAILED, "mfa.invalid_phone_number"),
        ("0003", MfaStatus.ALREADY_ENROLLED, "mfa.already_enrolled"),
    ],
    ids=["refused phone", "already enrolled"],
)
async def test_the_test_phones(
    client: Client,
    settings: Any,
    selfies: SelfieStore,
    sandbox: Sandbox,
    ending: str,
    status: MfaStatus,
    reason: str,
) -> None:
    phone, e164 = new_phone(ending)
    handle = await start(client, settings, selfies, phone)
    result = await handle.result()
    assert result.outcome == Outcome.APPROVED
    assert result.mfa is not None and result.mfa.status is status
    assert result.mfa.reason is not None and result.mfa.reason.code == reason
    assert enrollments_of(sandbox, e164) == []


async def test_an_sms_that_fails_once_is_sent_again(
    env: WorkflowEnvironment, client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    phone, e164 = new_phone("0001")
    with env.with_time_skipping_disabled():
        handle = await start(client, settings, selfies, phone)
        await until_stage(handle, Stage.AWAITING_OTP, seconds=30)
        assert (await submit_code(client, request_id(handle), sandbox.last_code(e164))).accepted
        assert (await handle.result()).mfa.status is MfaStatus.ENROLLED  # type: ignore[union-attr]


async def test_a_confirmation_whose_answer_was_lost_is_accepted_once(
    env: WorkflowEnvironment, client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    phone, e164 = new_phone()
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(client, settings, selfies, phone)
        sandbox.inject({"endpoint": "verify-otp", "drop_connection": True, "times": 1})
        answer = await submit_code(client, request_id(handle), sandbox.last_code(e164))
        result = await handle.result()
    assert answer.accepted and answer.recovery_code
    assert result.mfa is not None and result.mfa.status is MfaStatus.ENROLLED
    assert len(enrollments_of(sandbox, e164)) == 1


async def test_a_refused_management_token_blocks_the_step_until_it_is_fixed(
    env: WorkflowEnvironment, client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    # The app's grant lacks the ticket scope (a configuration only an operator fixes).
    sandbox.inject({"endpoint": "ticket", "code": "insufficient_scope", "times": 1})
    phone, e164 = new_phone()
    with env.with_time_skipping_disabled():
        handle = await start(client, settings, selfies, phone)
        status = await until_stage(handle, Stage.BLOCKED_CONFIGURATION, seconds=30)
        assert status.blocked_by is not None
        assert status.blocked_by.code == "mfa.insufficient_scope"
        await handle.signal(RETRY_NOW_SIGNAL)
        await until_stage(handle, Stage.AWAITING_OTP, seconds=30)
        assert (await submit_code(client, request_id(handle), sandbox.last_code(e164))).accepted
        assert (await handle.result()).mfa.status is MfaStatus.ENROLLED  # type: ignore[union-attr]


async def test_a_code_when_none_waits_is_refused_in_one_line(
    client: Client, settings: Any, selfies: SelfieStore
) -> None:
    onboarding = request(selfies, "12345678909")
    handle = await start_onboarding(client, onboarding, settings.task_queue)
    await handle.result()
    with pytest.raises(UpdateRefused) as refused:
        await submit_code(client, onboarding.request_id, "123456")
    assert refused.value.code == "mfa.not_awaiting"
    assert "has ended" in str(refused.value)


async def test_twenty_codes_at_once_get_one_enrollment_and_readable_answers(
    env: WorkflowEnvironment, client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    """Twenty callers send the right code at once, through the client and its codec: one
    is accepted, and every other gets an answer it can read (`mfa.busy` while the first
    is checked, `mfa.not_awaiting` after), never a payload it cannot decode."""
    phone, e164 = new_phone()
    with env.with_time_skipping_disabled():
        handle = await start_awaiting(client, settings, selfies, phone)
        code = sandbox.last_code(e164)
        answers = await asyncio.gather(
            *(submit_code(client, request_id(handle), code) for _ in range(20)),
            return_exceptions=True,
        )
        await handle.result()
    accepted = [a for a in answers if isinstance(a, OtpAnswer) and a.accepted]
    refused = [a for a in answers if isinstance(a, UpdateRefused)]
    assert len(accepted) == 1
    assert len(accepted) + len(refused) == 20, [repr(a) for a in answers]
    assert {r.code for r in refused} <= {"mfa.busy", "mfa.not_awaiting"}
    assert len(enrollments_of(sandbox, e164)) == 1
