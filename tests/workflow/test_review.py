"""A reviewer settles the `review` decisions: every path of the review step.

Unico (stubbed) answers score 28, a band where the client evaluates. The onboardings here
start with time skipping off, so that a review really waits for the test to answer (or to
fast-forward to its deadline).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.review_proof import VerifiedReviewer
from devstack.history import counts, events_of, of_kind, stage_upserts
from devstack.watch import until_stage
from onboarding_client.contract.names import (
    DECISION_UPDATE,
    REVIEW_DEADLINE_ATTRIBUTE,
    REVIEW_UPDATE,
    STATUS_QUERY,
    WEBHOOK_SIGNAL,
)
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import IdentityDecision, OnboardingResult
from onboarding_client.contract.review import ReviewAnswered, ReviewRecord
from onboarding_client.contract.status import OnboardingStatus, Stage
from onboarding_client.onboardings import start_onboarding
from tests.reviewers import ANA, BRUNO, CARLA, TEST_CONSOLE_KEY_ID, signed_body
from tests.workflow.conftest import request
from tests.workflow.stubs import (
    CREATE_PROCESS,
    GET_PROCESS,
    PENDING,
    REVIEW_BY_DEFAULT,
    TO_REVIEW,
    Hold,
    Script,
    StubbedWorker,
    stubbed_worker,
)

Handle = WorkflowHandle[Any, OnboardingResult]
REVIEWED = {"review": {"enabled": True, "deadline_seconds": 3600}}


@pytest_asyncio.fixture
async def started(env: WorkflowEnvironment, worker: StubbedWorker) -> AsyncIterator[list[Handle]]:
    """The onboardings a test started; any still running at its end is terminated."""
    handles: list[Handle] = []
    yield handles
    for handle in handles:
        if (await handle.describe()).close_time is None:
            await handle.terminate("the test is over")


async def start_waiting(
    env: WorkflowEnvironment,
    worker: StubbedWorker,
    started: list[Handle],
    script: Script | None = None,
    **options: Any,
) -> Handle:
    """An onboarding whose decision is `review`, once it waits for a reviewer."""
    worker.script = script or Script({CREATE_PROCESS: [TO_REVIEW]})
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(
            env.client, request(**{**REVIEWED, **options}), worker.queue
        )
    started.append(handle)
    await until_stage(handle, Stage.AWAITING_REVIEW)
    return handle


async def answer(
    handle: Handle, decision: str, reviewer: VerifiedReviewer = ANA, **more: Any
) -> ReviewRecord:
    """The console's answer, signed for `reviewer`."""
    body = signed_body(handle.id, decision, reviewer, **more)
    answered: ReviewAnswered = await handle.execute_update(
        REVIEW_UPDATE, body, result_type=ReviewAnswered
    )
    return answered.review


@pytest.mark.parametrize(
    ("decision", "outcome"),
    [
        ("approved", Outcome.APPROVED),
        ("rejected", Outcome.REJECTED),
        ("recapture", Outcome.RECAPTURE),
    ],
)
async def test_the_reviewer_s_answer_sets_the_outcome_and_is_kept(
    env: WorkflowEnvironment,
    worker: StubbedWorker,
    started: list[Handle],
    decision: str,
    outcome: Outcome,
) -> None:
    handle = await start_waiting(env, worker, started)
    status = await handle.query(STATUS_QUERY, result_type=OnboardingStatus)
    assert status.review_deadline is not None
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(REVIEW_DEADLINE_ATTRIBUTE) == status.review_deadline

    body = signed_body(handle.id, decision, ANA, reason="docs.match", note="checked docs")
    answered: ReviewAnswered = await handle.execute_update(
        REVIEW_UPDATE, body, result_type=ReviewAnswered
    )
    record = answered.review
    result = await handle.result()
    assert answered.outcome == outcome, "the update answers the outcome it sets"

    assert (record.decision.value, record.reason, record.note) == (
        decision,
        "docs.match",
        "checked docs",
    )
    # The verified login, as the identity provider named it: never a typed name.
    assert (record.reviewer, record.reviewer_id) == ("ana@reviewers.example", "auth0|ana")
    assert result.outcome == outcome
    assert result.review == record
    assert [r.code for r in result.reasons] == ["score.review", f"review.{decision}"]
    assert result.score == 28 and result.process_id == "p-1"
    events = await events_of(handle)
    assert stage_upserts(events)[-2:] == ["awaiting_review", "decided"]
    assert counts(events)["WORKFLOW_EXECUTION_UPDATE_ACCEPTED"] == 1


GOOD = {"decision": "approved"}
BAD_ANSWERS = [
    ("not an object", ["approved"], "review.malformed"),
    ("an unknown decision", {**GOOD, "decision": "maybe"}, "review.invalid_decision"),
    ("no decision", {"note": "ok"}, "review.invalid_decision"),
    ("a reviewer with spaces", {**GOOD, "reviewer": "ana b"}, "review.invalid_reviewer"),
    ("a reviewer too long", {**GOOD, "reviewer": "a" * 65}, "review.invalid_reviewer"),
    ("a note too long", {**GOOD, "note": "x" * 501}, "review.invalid_note"),
    ("a control character", {**GOOD, "note": "ok\x07"}, "review.invalid_note"),
    ("a new line", {**GOOD, "note": "a\nb"}, "review.invalid_note"),
    ("a reason that is no code", {**GOOD, "reason": "Docs OK!"}, "review.invalid_reason"),
    ("an unknown field", {**GOOD, "notes": "x"}, "review.malformed"),
    ("a proof too long", {**GOOD, "proof": "x" * 5000}, "review.malformed"),
    ("a typed reviewer, no proof", {**GOOD, "reviewer": "ana"}, "review.unverified"),
    ("no reviewer at all", GOOD, "review.unverified"),
    ("a proof that is no token", {**GOOD, "proof": "not.a.token"}, "review.invalid_proof"),
]


async def refused(handle: Handle, body: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(REVIEW_UPDATE, body, result_type=ReviewAnswered)
    assert isinstance(failed.value.cause, ApplicationError)
    return failed.value.cause


async def test_a_malformed_answer_is_refused_and_leaves_no_event(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle]
) -> None:
    handle = await start_waiting(env, worker, started)
    before = len(await events_of(handle))
    for why, body, code in BAD_ANSWERS:
        error = await refused(handle, body)
        assert error.type == code, why
    after = await events_of(handle)
    assert len(after) == before, "a refused update writes nothing to history"
    assert not of_kind(after, "WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
    # It still waits, and a good answer still settles it.
    await answer(handle, "approved")
    assert (await handle.result()).outcome == Outcome.APPROVED


async def test_an_answer_while_no_review_waits_is_refused(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle]
) -> None:
    worker.script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [PENDING] * 50})
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(env.client, request(**REVIEWED), worker.queue)
    started.append(handle)
    await until_stage(handle, Stage.WAITING)
    before = len(await events_of(handle))
    error = await refused(handle, signed_body(handle.id, "approved"))
    assert error.type == "review.not_awaiting"
    assert len(await events_of(handle)) == before


async def test_two_reviewers_at_once_one_wins_the_other_is_refused(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle]
) -> None:
    handle = await start_waiting(env, worker, started)
    first, second = await asyncio.gather(
        answer(handle, "approved", ANA),
        answer(handle, "rejected", BRUNO),
        return_exceptions=True,
    )
    outcomes = [r for r in (first, second) if isinstance(r, ReviewRecord)]
    losers = [r for r in (first, second) if not isinstance(r, ReviewRecord)]
    assert len(outcomes) == 1 and len(losers) == 1
    # Refused by the validator, or, when the winner's answer ended the onboarding first,
    # by the server: the run completed before the loser's answer reached it.
    [loser] = losers
    if isinstance(loser, WorkflowUpdateFailedError):
        assert isinstance(loser.cause, ApplicationError)
        assert loser.cause.type == "review.already_answered"
    else:
        assert isinstance(loser, RPCError), loser
        assert "completed" in str(loser) or "closing workflow" in str(loser), loser
    result = await handle.result()
    assert result.review == outcomes[0]
    accepted = of_kind(await events_of(handle), "WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
    assert len(accepted) == 1, "the loser never reached history"


@pytest.mark.parametrize(
    ("on_deadline", "outcome"), [("review", Outcome.REVIEW), ("rejected", Outcome.REJECTED)]
)
async def test_nobody_answers_by_the_deadline(
    env: WorkflowEnvironment,
    worker: StubbedWorker,
    started: list[Handle],
    on_deadline: str,
    outcome: Outcome,
) -> None:
    review = {"enabled": True, "deadline_seconds": 48 * 3600, "on_deadline": on_deadline}
    handle = await start_waiting(env, worker, started, review=review)
    await env.fast_forward(handle, timedelta(hours=48, minutes=1))
    result = await handle.result()
    assert result.outcome == outcome
    assert [r.code for r in result.reasons] == ["score.review", "review.deadline"]
    assert result.review is None
    timers = of_kind(await events_of(handle), "TIMER_FIRED")
    assert len(timers) == 1, "one durable timer: the review's deadline"


async def test_a_cancellation_while_a_review_waits_ends_as_canceled(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle]
) -> None:
    handle = await start_waiting(env, worker, started)
    await handle.cancel()
    result = await handle.result()
    assert result.outcome == Outcome.CANCELED
    assert result.reasons[0].code == "workflow.canceled"


async def test_a_review_waits_across_a_worker_restart(
    env: WorkflowEnvironment, started: list[Handle]
) -> None:
    async with stubbed_worker(env.client) as first:
        handle = await start_waiting(env, first, started)
    # No worker at all for a moment; then another one takes the queue over.
    await asyncio.sleep(0.5)
    async with stubbed_worker(env.client, first.queue) as second:
        second.script = first.script
        await answer(handle, "approved")
        assert (await handle.result()).outcome == Outcome.APPROVED


async def test_an_update_sent_while_a_webhook_read_is_in_flight(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle]
) -> None:
    """The read the webhook asked for is in flight: a review answer is refused (none
    waits yet), and the `decision` asked then is answered once the read comes back."""
    read = Hold(TO_REVIEW)
    worker.script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [read]})
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(
            env.client, request(**REVIEWED, poll_initial_seconds=600), worker.queue
        )
    started.append(handle)
    await until_stage(handle, Stage.WAITING)
    await handle.signal(WEBHOOK_SIGNAL, {"processId": "p-1"})
    await asyncio.wait_for(read.started.wait(), 20)
    decided = asyncio.create_task(
        handle.execute_update(DECISION_UPDATE, result_type=IdentityDecision)
    )
    error = await refused(handle, signed_body(handle.id, "approved"))
    assert error.type == "review.not_awaiting"
    read.release()
    decision = await asyncio.wait_for(decided, 20)
    assert (decision.outcome, decision.score) == (Outcome.REVIEW, 28)
    await until_stage(handle, Stage.AWAITING_REVIEW)
    await answer(handle, "rejected")
    assert (await handle.result()).outcome == Outcome.REJECTED


@pytest.mark.parametrize(("default", "waits"), [(True, True), (False, False)])
async def test_the_deployment_decides_when_the_request_does_not(
    env: WorkflowEnvironment, worker: StubbedWorker, default: bool, waits: bool
) -> None:
    worker.script = Script({CREATE_PROCESS: [TO_REVIEW], REVIEW_BY_DEFAULT: [default]})
    review = {"deadline_seconds": 3600}  # `enabled` left open
    handle = await start_onboarding(env.client, request(review=review), worker.queue)
    result = await handle.result()  # time skips: a waiting review reaches its deadline
    assert worker.script.called(REVIEW_BY_DEFAULT) == [None]
    codes = [r.code for r in result.reasons]
    assert codes == (["score.review", "review.deadline"] if waits else ["score.review"])
    assert (Stage.AWAITING_REVIEW.value in stage_upserts(await events_of(handle))) is waits


async def test_the_request_s_choice_asks_the_deployment_nothing(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script({CREATE_PROCESS: [TO_REVIEW], REVIEW_BY_DEFAULT: [True]})
    review = {"enabled": False}
    result = await (
        await start_onboarding(env.client, request(review=review), worker.queue)
    ).result()
    assert result.outcome == Outcome.REVIEW
    assert worker.script.called(REVIEW_BY_DEFAULT) == []


async def test_only_the_console_s_proof_of_a_verified_reviewer_is_taken(
    env: WorkflowEnvironment, worker: StubbedWorker, started: list[Handle]
) -> None:
    """Anyone who reaches Temporal can send the update; only the console can sign it."""
    handle = await start_waiting(env, worker, started)
    other = await start_waiting(env, worker, started)
    before = len(await events_of(handle))
    stranger = Ed25519PrivateKey.generate()
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    signed = signed_body(handle.id, "approved", note="fine")
    cases = [
        ("signed by a key nobody trusts", signed_body(handle.id, "approved", key=stranger)),
        (
            "a trusted key id, another key",
            signed_body(handle.id, "approved", key=stranger, key_id=TEST_CONSOLE_KEY_ID),
        ),
        ("signed for another onboarding", signed_body(other.id, "approved")),
        ("signed for another decision", {**signed, "decision": "rejected"}),
        ("signed for another note", {**signed, "note": "looks fine"}),
        ("signed ten minutes ago", signed_body(handle.id, "approved", now=long_ago)),
    ]
    for why, body in cases:
        assert (await refused(handle, body)).type == "review.invalid_proof", why
    forbidden = await refused(handle, signed_body(handle.id, "approved", CARLA))
    assert (forbidden.type, forbidden.message) == (
        "review.forbidden",
        "carla@support.example has no reviewer role",
    )
    assert len(await events_of(handle)) == before, "nothing refused reached history"
    record = await answer(handle, "approved", BRUNO)
    assert (record.reviewer, record.reviewer_id) == ("bruno@reviewers.example", "auth0|bruno")
