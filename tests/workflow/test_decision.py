"""Update `decision`: the identity decision the moment it exists, with or without a start.

Started with time skipping off where a test must see that the answer waits for the decision
(and no longer); the waits that must cross a run boundary use the session server's short
continue-as-new suggestion (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from devstack.history import counts, events_of, patch_markers
from onboarding_client.contract.names import DECISION_UPDATE, REVIEW_UPDATE
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import IdentityDecision, OnboardingResult
from onboarding_client.onboardings import decision_of, start_for_decision, start_onboarding
from tests.reviewers import signed_body
from tests.workflow.conftest import Onboard, request
from tests.workflow.stubs import (
    APPROVED,
    CREATE_PROCESS,
    GET_PROCESS,
    PENDING,
    TO_REVIEW,
    Hold,
    Script,
    StubbedWorker,
)
from workflows.steps import identity

Handle = WorkflowHandle[Any, OnboardingResult]


async def run_ids(handle: Handle) -> set[str]:
    """The runs of the onboarding: one per continue-as-new, plus the first."""
    query = f"WorkflowId = '{handle.id}'"
    client = handle._client  # the handle's own client: the test server's
    return {execution.run_id async for execution in client.list_workflows(query)}


async def test_a_decision_at_once_is_answered_with_the_start(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script({CREATE_PROCESS: [APPROVED]})
    handle, decision = await start_for_decision(env.client, request(), worker.queue)
    assert (decision.outcome, decision.process_id, decision.unico_id) == (
        Outcome.APPROVED,
        "p-1",
        "yes",
    )
    result = await handle.result()
    assert result.identity() == decision
    assert len(worker.script.called(CREATE_PROCESS)) == 1


async def test_a_waiting_onboarding_answers_when_it_is_decided_and_not_before(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    read = Hold(APPROVED)
    worker.script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [read]})
    with env.with_time_skipping_disabled():
        asked = asyncio.create_task(start_for_decision(env.client, request(), worker.queue))
        await asyncio.wait_for(read.started.wait(), 20)
        await asyncio.sleep(0.5)
        assert not asked.done(), "no decision while Unico still processes"
        read.release()
        handle, decision = await asyncio.wait_for(asked, 20)
    assert decision.outcome == Outcome.APPROVED
    assert (await handle.result()).outcome == Outcome.APPROVED


async def test_a_repeated_call_joins_the_running_onboarding(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    read = Hold(APPROVED)
    worker.script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [read]})
    same = request()
    with env.with_time_skipping_disabled():
        first = asyncio.create_task(start_for_decision(env.client, same, worker.queue))
        await asyncio.wait_for(read.started.wait(), 20)
        second = asyncio.create_task(start_for_decision(env.client, same, worker.queue))
        await asyncio.sleep(0.5)
        read.release()
        (one, first_decision), (other, second_decision) = await asyncio.gather(first, second)
    assert first_decision == second_decision
    assert one.id == other.id
    assert len(await run_ids(one)) == 1
    assert len(worker.script.called(CREATE_PROCESS)) == 1, "one Unico process for one request"


async def test_a_closed_onboarding_answers_from_its_result(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script({CREATE_PROCESS: [APPROVED]})
    same = request()
    await (await start_onboarding(env.client, same, worker.queue)).result()
    handle, decision = await start_for_decision(env.client, same, worker.queue)
    assert decision.outcome == Outcome.APPROVED
    assert len(worker.script.called(CREATE_PROCESS)) == 1, "never started again"
    assert await decision_of(env.client, same.request_id) == decision
    assert len(await run_ids(handle)) == 1


async def test_a_review_awaiting_a_reviewer_answers_review_at_once(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script({CREATE_PROCESS: [TO_REVIEW]})
    with env.with_time_skipping_disabled():
        started = request(review={"enabled": True, "deadline_seconds": 3600})
        handle, decision = await start_for_decision(env.client, started, worker.queue)
        assert (decision.outcome, decision.score) == (Outcome.REVIEW, 28)
        assert [r.code for r in decision.reasons] == ["score.review"]
        status = await handle.describe()
        assert status.close_time is None, "still waiting for its reviewer"
        await handle.execute_update(REVIEW_UPDATE, signed_body(handle.id, "approved"))
        # Asked again after the review, the decision is the reviewer's.
        after = await decision_of(env.client, started.request_id)
    assert after.outcome == Outcome.APPROVED
    assert [r.code for r in after.reasons] == ["score.review", "review.approved"]
    assert (await handle.result()).identity() == after
    assert counts(await events_of(handle))["WORKFLOW_EXECUTION_UPDATE_COMPLETED"] >= 2


async def test_every_decision_asked_is_answered_before_the_run_ends(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [PENDING] * 3})
    handle = await start_onboarding(env.client, request(), worker.queue)
    asks = [handle.execute_update(DECISION_UPDATE, result_type=IdentityDecision) for _ in range(5)]
    answers = await asyncio.gather(*asks)
    result = await handle.result()
    assert {a.outcome for a in answers} == {Outcome.APPROVED}
    events = counts(await events_of(handle))
    assert events["WORKFLOW_EXECUTION_UPDATE_COMPLETED"] == 5
    assert result.outcome == Outcome.APPROVED


async def test_a_waiting_decision_defers_continue_as_new(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    """Enough reads to be told to continue as new many times over: with an update waiting,
    the run goes on, and answers it."""
    worker.script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [PENDING] * 6})
    handle, decision = await start_for_decision(env.client, request(), worker.queue)
    assert decision.outcome == Outcome.APPROVED
    await handle.result()
    assert len(await run_ids(handle)) == 1


async def test_a_decision_asked_after_a_continue_as_new_is_answered_by_the_new_run(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    read = Hold(APPROVED)
    worker.script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [PENDING] * 6 + [read]})
    with env.with_time_skipping_disabled():
        started = request(poll_initial_seconds=0.1, poll_max_seconds=0.1)
        handle = await start_onboarding(env.client, started, worker.queue)
        await asyncio.wait_for(read.started.wait(), 60)
        assert len(await run_ids(handle)) >= 2, "the long wait crossed a run boundary"
        asked = asyncio.create_task(decision_of(env.client, started.request_id))
        await asyncio.sleep(0.3)
        read.release()
        decision = await asyncio.wait_for(asked, 20)
    assert decision.outcome == Outcome.APPROVED


async def test_a_continue_as_new_past_the_deferral_limit_is_asked_again(
    env: WorkflowEnvironment, worker: StubbedWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run continues as new under a waiting update (its history is too long to wait):
    the client asks the new run, and the caller sees only the answer."""
    monkeypatch.setattr(identity, "DEFER_CONTINUE_AS_NEW_UNTIL_EVENTS", 0)
    worker.script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [PENDING] * 6})
    handle, decision = await start_for_decision(env.client, request(), worker.queue)
    assert decision.outcome == Outcome.APPROVED
    await handle.result()
    assert len(await run_ids(handle)) >= 2


async def test_a_run_records_no_patch_marker_whatever_its_path(onboard: Onboard) -> None:
    """1.0 keeps one path: a run is pinned to its build, and no branch asks for a patch."""
    _, approved = await onboard(Script({CREATE_PROCESS: [APPROVED]}))
    _, reviewed = await onboard(Script({CREATE_PROCESS: [TO_REVIEW]}), review={"enabled": False})
    assert patch_markers(approved) == patch_markers(reviewed) == []
