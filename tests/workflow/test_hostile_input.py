"""What a client sends can refuse an update or be ignored, never fail a workflow task.

Each case is one that stuck an onboarding before (a signal with two arguments, an update
with none, an input over the server's payload limit, a number that overflowed a wait, a
second workflow id for one request): it is sent, the onboarding goes on and ends as its
inputs say, and no workflow task failed on the way.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from devstack.history import counts, events_of
from devstack.watch import until_stage
from onboarding_client.contract.names import (
    DECISION_UPDATE,
    RETRY_NOW_SIGNAL,
    REVIEW_UPDATE,
    STATUS_QUERY,
    WEBHOOK_SIGNAL,
)
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.contract.status import OnboardingStatus, Stage
from onboarding_client.onboardings import start_onboarding
from tests.reviewers import signed_body
from tests.workflow.conftest import request, start_as_any_client
from tests.workflow.stubs import APPROVED, CREATE_PROCESS, TO_REVIEW, Script, StubbedWorker

Handle = WorkflowHandle[Any, OnboardingResult]
REVIEWED = {"review": {"enabled": True, "deadline_seconds": 3600}}
GOOD_ANSWER = {"decision": "approved"}  # where it is refused before its proof is read


@pytest_asyncio.fixture
async def waiting(env: WorkflowEnvironment, worker: StubbedWorker) -> AsyncIterator[Handle]:
    """An onboarding waiting for its reviewer (time skipping off, so that it waits)."""
    worker.script = Script({CREATE_PROCESS: [TO_REVIEW]})
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(env.client, request(**REVIEWED), worker.queue)
        await until_stage(handle, Stage.AWAITING_REVIEW)
        yield handle
        if (await handle.describe()).close_time is None:
            await handle.terminate("the test is over")


async def refusal_of(handle: Handle, update: str, args: list[Any]) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(update, args=args)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return str(cause.type)


async def no_task_failed(handle: Handle) -> None:
    events = counts(await events_of(handle))
    assert events["WORKFLOW_TASK_FAILED"] == 0, "a workflow task failed"


async def test_signals_and_queries_with_any_arity_are_read_or_ignored(
    env: WorkflowEnvironment, waiting: Handle
) -> None:
    with env.with_time_skipping_disabled():
        await waiting.signal(WEBHOOK_SIGNAL, args=[{}, {}])
        await waiting.signal(WEBHOOK_SIGNAL, args=[{"processId": ["not", "a", "string"]}])
        await waiting.signal(WEBHOOK_SIGNAL, args=[])
        await waiting.signal(RETRY_NOW_SIGNAL, args=["now", 1, None])
        status = await waiting.query(STATUS_QUERY, args=[1, {"x": 2}], result_type=OnboardingStatus)
        assert status.stage == Stage.AWAITING_REVIEW
        await waiting.execute_update(REVIEW_UPDATE, signed_body(waiting.id, "approved"))
        assert (await waiting.result()).outcome == Outcome.APPROVED
    await no_task_failed(waiting)


@pytest.mark.parametrize(
    ("update", "args", "code"),
    [
        (REVIEW_UPDATE, [], "review.malformed"),
        (REVIEW_UPDATE, [GOOD_ANSWER, GOOD_ANSWER], "review.malformed"),
        (REVIEW_UPDATE, [{**GOOD_ANSWER, "note": "x" * 100_000}], "review.malformed"),
        (DECISION_UPDATE, ["please"], "decision.malformed"),
    ],
    ids=["review-no-input", "review-two-inputs", "review-100kb", "decision-with-input"],
)
async def test_an_update_it_cannot_use_is_refused_before_history(
    env: WorkflowEnvironment, waiting: Handle, update: str, args: list[Any], code: str
) -> None:
    with env.with_time_skipping_disabled():
        assert await refusal_of(waiting, update, args) == code
        events = counts(await events_of(waiting))
        assert events["WORKFLOW_EXECUTION_UPDATE_ACCEPTED"] == 0, "a refusal writes nothing"
        await waiting.execute_update(REVIEW_UPDATE, signed_body(waiting.id, "approved"))
        assert (await waiting.result()).outcome == Outcome.APPROVED
    await no_task_failed(waiting)


async def test_an_update_over_the_server_s_payload_limit_goes_away_without_a_trace(
    env: WorkflowEnvironment, waiting: Handle
) -> None:
    """3 MB: too large for the refusal to carry back, so the server turns the worker's answer
    away and drops the update; the run must not fail a task, and answers at once after."""
    with env.with_time_skipping_disabled():
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):
            note = "x" * (3 * 1024 * 1024)
            await waiting.execute_update(REVIEW_UPDATE, {**GOOD_ANSWER, "note": note})
        status = await waiting.query(STATUS_QUERY, result_type=OnboardingStatus)
        assert status.stage == Stage.AWAITING_REVIEW
        await waiting.execute_update(REVIEW_UPDATE, signed_body(waiting.id, "approved"))
        assert (await waiting.result()).outcome == Outcome.APPROVED
    events = counts(await events_of(waiting))
    assert events["WORKFLOW_EXECUTION_UPDATE_ACCEPTED"] == 1, "only the good answer"
    await no_task_failed(waiting)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ([], "unico.20003"),
        ([{"not": "a request"}, {"deadline_epoch": 1}], "unico.20004"),
        (["a", "b", "c"], "unico.20003"),
    ],
    ids=["no-input", "a-forged-carry", "three-inputs"],
)
async def test_a_start_of_any_arity_ends_as_its_first_input_says(
    env: WorkflowEnvironment, worker: StubbedWorker, args: list[Any], code: str
) -> None:
    worker.script = Script({CREATE_PROCESS: [APPROVED]})
    handle = await start_as_any_client(env, worker, args, f"onboarding-{uuid.uuid4().hex}")
    result = await handle.result()
    assert result.outcome == Outcome.INVALID_REQUEST
    assert [r.code for r in result.reasons] == [code]
    await no_task_failed(handle)
    assert worker.script.called(CREATE_PROCESS) == []


async def test_a_workflow_id_not_the_request_s_is_refused_before_any_call(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script({CREATE_PROCESS: [APPROVED]})
    started = request()
    handle = await start_as_any_client(env, worker, [started], f"onboarding-x-{started.request_id}")
    result = await handle.result()
    assert result.outcome == Outcome.INVALID_REQUEST
    assert result.reasons[0].message == "the workflow id must be onboarding-<request_id>"
    assert worker.script.called(CREATE_PROCESS) == []


async def test_a_wait_schedule_that_would_overflow_is_refused_where_it_is_read(
    worker: StubbedWorker, env: WorkflowEnvironment
) -> None:
    worker.script = Script({CREATE_PROCESS: [APPROVED]})
    schedule = {"initial_seconds": 60, "max_seconds": 1800, "backoff": 1e300}
    started = request().model_dump(mode="json")
    started["options"]["configuration_retry"] = schedule
    handle = await start_as_any_client(
        env, worker, [started], f"onboarding-{started['request_id']}"
    )
    result = await handle.result()
    assert result.outcome == Outcome.INVALID_REQUEST
    assert "options.configuration_retry.backoff" in result.reasons[0].message
