"""The account step: an approved person's record in Identity Cloud, with the activity stubbed.

What the workflow does with each answer of `register_account`: the result's `account`, the
outcome that stays `approved`, the operator's block and its healing, the step's own budget,
and that only an approved onboarding which asks for it ever calls the activity.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from contracts.account import RegisterAccountInput
from contracts.unico import UnicoProcess
from devstack.history import events_of, patch_markers, stage_upserts
from devstack.watch import until_stage
from onboarding_client.contract.names import (
    DECISION_UPDATE,
    RETRY_NOW_SIGNAL,
    REVIEW_UPDATE,
    STATUS_QUERY,
)
from onboarding_client.contract.outcome import Outcome, Reason
from onboarding_client.contract.result import AccountResult, AccountStatus, IdentityDecision
from onboarding_client.contract.status import OnboardingStatus, Stage
from onboarding_client.onboardings import OnboardingHandle, start_onboarding
from tests.reviewers import signed_body
from tests.workflow.conftest import Onboard, request
from tests.workflow.stubs import (
    APPROVED,
    CREATE_PROCESS,
    GET_PROCESS,
    PENDING,
    REGISTER_ACCOUNT,
    TO_REVIEW,
    Fail,
    Hold,
    Script,
    StubbedWorker,
)

REGISTER = {"account": {"register": True}}
IDENTITY_CLOUD = "identity-cloud"


async def test_an_approved_person_gets_an_account(onboard: Onboard, worker: StubbedWorker) -> None:
    result, events = await onboard(Script({CREATE_PROCESS: [APPROVED]}), **REGISTER)
    assert result.outcome == Outcome.APPROVED
    assert result.account == AccountResult(status=AccountStatus.REGISTERED, uuid="u-1")
    [sent] = worker.script.called(REGISTER_ACCOUNT)
    person = RegisterAccountInput.model_validate(sent)
    assert person.subject.code == "12345678909" and person.request_id
    # The step's own patch is implied by `selfie-with-last-call`, the run's one marker.
    assert patch_markers(events) == []
    # It lasts a moment: in the details and the status query, not an upsert of its own.
    assert stage_upserts(events)[-1] == "decided"
    assert "registering" not in stage_upserts(events)


@pytest.mark.parametrize(
    ("process", "options"),
    [(APPROVED, {}), (TO_REVIEW, REGISTER)],
    ids=["approved without asking", "asked but not approved"],
)
async def test_no_account_unless_approved_and_asked(
    onboard: Onboard, worker: StubbedWorker, process: UnicoProcess, options: dict[str, Any]
) -> None:
    result, events = await onboard(Script({CREATE_PROCESS: [process]}), **options)
    assert result.account is None
    assert worker.script.called(REGISTER_ACCOUNT) == []
    assert patch_markers(events) == []


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (AccountStatus.EXISTING, Reason(code="account.existing", message="adopted")),
        (AccountStatus.REGISTERED, Reason(code="account.adopted", message="ours, earlier")),
    ],
)
async def test_an_adopted_record_is_reported_as_the_activity_found_it(
    onboard: Onboard, status: AccountStatus, reason: Reason
) -> None:
    found = AccountResult(status=status, uuid="u-9", reason=reason)
    result, _ = await onboard(
        Script({CREATE_PROCESS: [APPROVED], REGISTER_ACCOUNT: [found]}), **REGISTER
    )
    assert (result.outcome, result.account) == (Outcome.APPROVED, found)


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (Fail("invalid_request", "361", system=IDENTITY_CLOUD), "identity_cloud.361"),
        (Fail("invalid_request", "363", system=IDENTITY_CLOUD), "identity_cloud.363"),
        (Fail("permanent", "320", system=IDENTITY_CLOUD), "identity_cloud.320"),
        (Fail("not_found", "310", system=IDENTITY_CLOUD), "identity_cloud.310"),
        (Fail("no_such_class", non_retryable=True), "register_account.no_such_class"),
    ],
    ids=["e-mail held by another", "schema", "permanent", "not found", "unknown"],
)
async def test_a_failed_step_never_changes_the_outcome(
    onboard: Onboard, worker: StubbedWorker, failure: Fail, code: str
) -> None:
    script = Script({CREATE_PROCESS: [APPROVED], REGISTER_ACCOUNT: [failure]})
    result, _ = await onboard(script, **REGISTER)
    assert result.outcome == Outcome.APPROVED
    assert result.account is not None
    assert (result.account.status, result.account.uuid) == (AccountStatus.FAILED, None)
    assert result.account.reason is not None and result.account.reason.code == code
    assert len(worker.script.called(REGISTER_ACCOUNT)) == 1, "no retry of a final failure"


async def test_transient_failures_are_retried_by_the_activity(
    onboard: Onboard, worker: StubbedWorker
) -> None:
    storm = [Fail("rate_limited", "510", system=IDENTITY_CLOUD)] * 3 + [Fail("transient", "500")]
    script = Script({CREATE_PROCESS: [APPROVED], REGISTER_ACCOUNT: storm})
    result, _ = await onboard(script, **REGISTER)
    assert result.account == AccountResult(status=AccountStatus.REGISTERED, uuid="u-1")
    assert len(worker.script.called(REGISTER_ACCOUNT)) == 5


async def test_a_refused_client_blocks_until_an_operator_fixes_it(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    refused = Fail("configuration", "402", "invalid_client_credentials", system=IDENTITY_CLOUD)
    worker.script = Script({CREATE_PROCESS: [APPROVED], REGISTER_ACCOUNT: [refused, refused]})
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(env.client, request(**REGISTER), worker.queue)
        status = await until_stage(handle, Stage.BLOCKED_CONFIGURATION)
        assert status.blocked_by is not None and status.blocked_by.code == "identity_cloud.402"
        # The first retry waits a minute; the operator's signal cuts it short (twice here:
        # the secret was still wrong the first time).
        await handle.signal(RETRY_NOW_SIGNAL)
        await asyncio.sleep(0.5)
        await handle.signal(RETRY_NOW_SIGNAL)
        result = await asyncio.wait_for(handle.result(), 20)
    assert result.outcome == Outcome.APPROVED
    assert result.account == AccountResult(status=AccountStatus.REGISTERED, uuid="u-1")
    upserts = stage_upserts(await events_of(handle))
    assert upserts[-3:] == ["blocked_configuration", "registering", "decided"]


async def test_the_step_has_its_own_deadline(onboard: Onboard, worker: StubbedWorker) -> None:
    """Configured wrong all along: blocked until the step's deadline, then `failed`; the
    outcome is still the approval."""
    refused = Fail("configuration", "223", "unknown_attribute", system=IDENTITY_CLOUD)
    script = Script({CREATE_PROCESS: [APPROVED], REGISTER_ACCOUNT: [refused] * 20})
    options = {"account": {"register": True, "deadline_seconds": 600}}
    result, _ = await onboard(script, **options)
    assert result.outcome == Outcome.APPROVED
    assert result.account is not None and result.account.status is AccountStatus.FAILED
    assert result.account.reason is not None
    assert result.account.reason.code == "identity_cloud.223"
    assert "still failing at the deadline" in result.account.reason.message


async def test_a_review_that_outlasts_the_onboarding_s_deadline_still_registers(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script({CREATE_PROCESS: [TO_REVIEW]})
    options = {
        "deadline_seconds": 60,
        "review": {"enabled": True, "deadline_seconds": 7200},
        **REGISTER,
    }
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(env.client, request(**options), worker.queue)
        await until_stage(handle, Stage.AWAITING_REVIEW)
        await env.fast_forward(handle, timedelta(minutes=30))  # past the onboarding's deadline
        # Signed at the test server's time, which the fast-forward moved on.
        now = await env.get_current_time(handle)
        await handle.execute_update(REVIEW_UPDATE, signed_body(handle.id, "approved", now=now))
        result = await asyncio.wait_for(handle.result(), 20)
    assert result.outcome == Outcome.APPROVED
    assert result.account == AccountResult(status=AccountStatus.REGISTERED, uuid="u-1")
    assert [r.code for r in result.reasons] == ["score.review", "review.approved"]


async def start_while_registering(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> tuple[OnboardingHandle, Hold]:
    """An approved onboarding whose account step is under way and held there."""
    held = Hold(AccountResult(status=AccountStatus.REGISTERED, uuid="u-1"))
    worker.script = Script({CREATE_PROCESS: [APPROVED], REGISTER_ACCOUNT: [held]})
    handle = await start_onboarding(env.client, request(**REGISTER), worker.queue)
    await asyncio.wait_for(held.started.wait(), 20)
    return handle, held


async def test_the_decision_comes_before_the_account(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    with env.with_time_skipping_disabled():
        handle, held = await start_while_registering(env, worker)
        decision = await handle.execute_update(DECISION_UPDATE, result_type=IdentityDecision)
        status = await handle.query(STATUS_QUERY, result_type=OnboardingStatus)
        held.release()
        result = await asyncio.wait_for(handle.result(), 20)
    assert decision.outcome == Outcome.APPROVED
    assert status.stage is Stage.REGISTERING
    assert result.account is not None and result.account.status is AccountStatus.REGISTERED


async def test_a_cancellation_during_the_step_ends_as_canceled(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    with env.with_time_skipping_disabled():
        handle, held = await start_while_registering(env, worker)
        await handle.cancel()
        result = await asyncio.wait_for(handle.result(), 20)
        held.release()
    assert result.outcome == Outcome.CANCELED


async def test_a_person_approved_after_waiting_for_unico_is_registered_once(
    onboard: Onboard, worker: StubbedWorker
) -> None:
    script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [PENDING, APPROVED]})
    result, _ = await onboard(script, **REGISTER)
    assert result.account is not None and result.account.status is AccountStatus.REGISTERED
    assert len(worker.script.called(REGISTER_ACCOUNT)) == 1
