"""A waiting review's desk: the hold a reviewer takes by opening it, and four eyes on an
approval that goes against Unico's signals. The answers are signed as the console signs
them, for the sandbox's three people (Ana a reviewer, Bruno a senior, Carla neither)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from contracts.review_proof import VerifiedReviewer
from contracts.unico import UnicoProcess
from devstack.history import events_of, of_kind
from devstack.watch import until_stage
from onboarding_client.contract.names import CLAIM_UPDATE, REVIEW_UPDATE
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.contract.review import ReviewAnswered, ReviewBrief, ReviewClaimed
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import start_onboarding
from tests.reviewers import ANA, BRUNO, CARLA, signed_body, signed_claim
from tests.workflow.conftest import request
from tests.workflow.stubs import CREATE_PROCESS, TO_REVIEW, Script, StubbedWorker

Handle = WorkflowHandle[Any, OnboardingResult]
REVIEWED = {"review": {"enabled": True, "deadline_seconds": 3600}}
# Score -25 and the fraudster flag: an approval against both needs four eyes.
AGAINST = UnicoProcess.model_validate(
    {
        "id": "p-1",
        "status": 3,
        "unicoId": {"result": "inconclusive"},
        "identityFraudsters": {"result": "yes"},
        "government": {"serpro": 62},
        "liveness": 1,
        "score": 25,
    }
)
NEGATIVE = AGAINST.model_copy(update={"score": -25, "identity_fraudsters": None})


@pytest_asyncio.fixture
async def started(env: WorkflowEnvironment) -> AsyncIterator[list[Handle]]:
    handles: list[Handle] = []
    yield handles
    for handle in handles:
        if (await handle.describe()).close_time is None:
            await handle.terminate("the test is over")


async def waiting(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle], process: UnicoProcess
) -> Handle:
    worker.script = Script({CREATE_PROCESS: [process]})
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(env.client, request(**REVIEWED), worker.queue)
    started.append(handle)
    await until_stage(handle, Stage.AWAITING_REVIEW)
    return handle


async def brief_of(handle: Handle) -> ReviewBrief:
    memo = await (await handle.describe()).memo()
    return ReviewBrief.model_validate(memo["review"])


async def claim(handle: Handle, reviewer: VerifiedReviewer, action: str = "claim") -> ReviewClaimed:
    claimed: ReviewClaimed = await handle.execute_update(
        CLAIM_UPDATE, signed_claim(handle.id, action, reviewer), result_type=ReviewClaimed
    )
    return claimed


async def answer(
    handle: Handle, decision: str, reviewer: VerifiedReviewer, **more: Any
) -> ReviewAnswered:
    answered: ReviewAnswered = await handle.execute_update(
        REVIEW_UPDATE,
        signed_body(handle.id, decision, reviewer, **more),
        result_type=ReviewAnswered,
    )
    return answered


async def refusal(call: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await call
    assert isinstance(failed.value.cause, ApplicationError)
    return failed.value.cause


async def test_the_memo_carries_unico_s_signals_and_why_four_eyes(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle]
) -> None:
    handle = await waiting(env, worker, started, AGAINST.model_copy(update={"score": 28}))
    brief = await brief_of(handle)
    assert brief.signals is not None
    assert (brief.signals.fraudster, brief.signals.serpro, brief.signals.band) == (
        "yes",
        62,
        "review_positive",
    )
    assert brief.four_eyes == ["fraudster.yes"]
    plain = await waiting(env, worker, started, TO_REVIEW)
    assert (await brief_of(plain)).four_eyes == [], "score 28, no flag: one reviewer"


async def test_a_hold_keeps_others_out_until_its_holder_answers_or_a_senior_releases_it(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle]
) -> None:
    handle = await waiting(env, worker, started, TO_REVIEW)
    with env.with_time_skipping_disabled():
        held = await claim(handle, ANA)
        assert held.held_by is not None and held.held_by.reviewer == "ana@reviewers.example"
        assert (await brief_of(handle)).held_by == held.held_by, "the queue shows the holder"
        assert (await claim(handle, ANA)).held_by is not None, "opening it again renews it"
        before = len(await events_of(handle))
        taken = await refusal(claim(handle, BRUNO))
        assert taken.type == "review.held" and "ana@reviewers.example holds" in taken.message
        answered = await refusal(answer(handle, "rejected", BRUNO))
        assert answered.type == "review.held"
        let_go = await refusal(claim(handle, CARLA, "release"))
        assert let_go.type == "review.forbidden", "Carla may not review at all"
        assert len(await events_of(handle)) == before, "no refusal reached history"
        released = await claim(handle, BRUNO, "release")
        assert released.held_by is None and (await brief_of(handle)).held_by is None
        await claim(handle, BRUNO)
        done = await answer(handle, "approved", BRUNO, reason="documents.match")
        assert done.outcome is Outcome.APPROVED
        result = await handle.result()
    assert result.review is not None and result.review.reviewer == "bruno@reviewers.example"
    assert result.review.first_review is None, "score 28: one reviewer decides"


@pytest.mark.parametrize("process", [AGAINST, NEGATIVE], ids=["fraudster flag", "score -25"])
async def test_an_approval_against_the_signals_waits_for_a_senior_who_confirms_it(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle], process: UnicoProcess
) -> None:
    handle = await waiting(env, worker, started, process)
    with env.with_time_skipping_disabled():
        first = await answer(handle, "approved", ANA, reason="documents.match", note="ok")
        assert (first.outcome, first.awaiting) == (Outcome.REVIEW, "second_reviewer")
        brief = await brief_of(handle)
        assert brief.first_review is not None and brief.first_review.reviewer_id == "auth0|ana"
        same = await refusal(answer(handle, "approved", ANA, reason="documents.match"))
        assert same.type == "review.same_reviewer"
        held = await refusal(claim(handle, ANA))
        assert held.type == "review.same_reviewer", "nor hold what she may not answer"
        not_senior = await refusal(answer(handle, "approved", CARLA))
        assert not_senior.type == "review.forbidden", "no role at all"
        confirmed = await answer(handle, "approved", BRUNO, reason="identity.confirmed_by_call")
        assert confirmed.outcome is Outcome.APPROVED
        result = await handle.result()
    review = result.review
    assert review is not None and review.first_review is not None
    assert (review.reviewer, review.first_review.reviewer) == (
        "bruno@reviewers.example",
        "ana@reviewers.example",
    )
    assert result.reasons[-1].message == (
        "approved by reviewer bruno@reviewers.example, confirming the approval of "
        "ana@reviewers.example"
    )
    accepted = of_kind(await events_of(handle), "WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
    assert len(accepted) == 2, "both answers are in the history, the refusals are not"


async def test_a_second_reviewer_who_is_no_senior_cannot_confirm_and_a_senior_can_overrule(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle]
) -> None:
    other_reviewer = VerifiedReviewer(
        "auth0|dora", "dora@reviewers.example", "Dora", frozenset({"reviewer"})
    )
    handle = await waiting(env, worker, started, NEGATIVE)
    with env.with_time_skipping_disabled():
        await answer(handle, "approved", ANA)
        junior = await refusal(answer(handle, "approved", other_reviewer))
        assert junior.type == "review.senior_required" and "band.review_negative" in junior.message
        overruled = await answer(handle, "rejected", BRUNO, reason="fraud.suspected")
        assert overruled.outcome is Outcome.REJECTED
        result = await handle.result()
    assert result.outcome is Outcome.REJECTED
    assert result.review is not None and result.review.first_review is not None
    assert "overruling the approval of ana@reviewers.example" in result.reasons[-1].message


async def test_a_rejection_against_the_signals_is_final_with_one_reviewer(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle]
) -> None:
    handle = await waiting(env, worker, started, NEGATIVE)
    with env.with_time_skipping_disabled():
        done = await answer(handle, "rejected", ANA, reason="fraud.suspected")
        assert (done.outcome, done.awaiting) == (Outcome.REJECTED, None)
        assert (await handle.result()).outcome is Outcome.REJECTED
