"""The selfie's end on the `selfie-with-last-call` path: the Unico call whose answer settles
the process releases it, and the end of the run releases only what no call did."""

from __future__ import annotations

from typing import Any

from temporalio.testing import WorkflowEnvironment

from contracts.selfies import SelfieRelease
from contracts.unico import UnicoProcess
from devstack.actions import LOCAL_ACTIVITY_MARKER
from devstack.history import of_kind, scheduled_activities
from onboarding_client.contract.outcome import Outcome
from tests.workflow.conftest import Onboard
from tests.workflow.stubs import (
    APPROVED,
    CREATE_PROCESS,
    DELETE_SELFIE,
    GET_PROCESS,
    PENDING,
    READ_PROCESS,
    RELEASE_SELFIE,
    Fail,
    Script,
)

REF = "local:" + "0" * 32  # the conftest's request
ERROR = UnicoProcess.model_validate({"id": "p-1", "status": 5})
# Inconclusive and no score: the decision asks for a new process, which needs the selfie.
NO_SCORE = UnicoProcess.model_validate(
    {"id": "p-1", "status": 3, "unicoId": {"result": "inconclusive"}, "liveness": 1}
)


def local_activities(events: list[Any]) -> int:
    markers = of_kind(events, "MARKER_RECORDED")
    return sum(
        m.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER for m in markers
    )


async def test_a_create_that_settles_releases_the_selfie_on_its_way(onboard: Onboard) -> None:
    script = Script({CREATE_PROCESS: [APPROVED]})
    result, events = await onboard(script)
    assert result.outcome is Outcome.APPROVED
    assert len(script.called(CREATE_PROCESS)) == 1
    assert script.called(RELEASE_SELFIE) == [REF], "released once"
    assert local_activities(events) == 0, "no release at the end"


async def test_the_read_that_settles_releases_it(onboard: Onboard) -> None:
    script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [PENDING, APPROVED]})
    result, events = await onboard(script)
    assert result.outcome is Outcome.APPROVED
    scheduled = scheduled_activities(events)
    assert scheduled.count(READ_PROCESS) == 2 and GET_PROCESS not in scheduled
    assert script.called(RELEASE_SELFIE) == [REF], "by the second read, not the first"
    assert local_activities(events) == 0


async def test_an_answer_that_asks_for_a_new_process_keeps_the_selfie_for_it(
    onboard: Onboard,
) -> None:
    script = Script({CREATE_PROCESS: [NO_SCORE, APPROVED]})
    result, events = await onboard(script)
    assert (result.outcome, result.attempts) == (Outcome.APPROVED, 2)
    assert script.called(RELEASE_SELFIE) == [REF], "only once the second create settled"
    assert local_activities(events) == 0


async def test_what_no_call_settled_the_end_releases(onboard: Onboard) -> None:
    script = Script({CREATE_PROCESS: [ERROR] * 5})
    result, events = await onboard(script, max_process_attempts=2)
    assert result.outcome is Outcome.ERROR
    assert script.called(RELEASE_SELFIE) == [REF]
    assert local_activities(events) == 1, "the release at the end"


async def test_a_store_that_fails_in_the_call_leaves_the_release_to_the_end(
    onboard: Onboard,
) -> None:
    script = Script({CREATE_PROCESS: [APPROVED], RELEASE_SELFIE: [Fail("transient")]})
    result, events = await onboard(script)
    assert result.outcome is Outcome.APPROVED, "the store's failure costs the answer nothing"
    assert script.called(RELEASE_SELFIE) == [REF, REF]
    assert local_activities(events) == 1


async def test_a_retention_period_from_the_call_starts_its_timer_at_the_end(
    onboard: Onboard, env: WorkflowEnvironment
) -> None:
    kept = SelfieRelease(deleted=False, keep_seconds=30)
    script = Script({CREATE_PROCESS: [APPROVED], RELEASE_SELFIE: [kept]})
    _, events = await onboard(script)
    assert local_activities(events) == 0, "the call answered the retention period"
    (child,) = of_kind(events, "START_CHILD_WORKFLOW_EXECUTION_INITIATED")
    retention_id = child.start_child_workflow_execution_initiated_event_attributes.workflow_id
    await env.client.get_workflow_handle(retention_id).result()
    assert script.called(DELETE_SELFIE) == [REF], "deleted once the period ran out"


async def test_with_review_on_the_image_is_kept_for_the_reviewer_and_goes_at_the_end(
    onboard: Onboard,
) -> None:
    kept = SelfieRelease(deleted=True, evidence=True)
    script = Script({CREATE_PROCESS: [APPROVED], RELEASE_SELFIE: [kept]})
    result, events = await onboard(script, review={"enabled": True})
    assert result.outcome is Outcome.APPROVED
    [created] = script.called(CREATE_PROCESS)
    assert created["keep_evidence"] is True, "the create's call keeps the evidence sealed"
    assert script.called(RELEASE_SELFIE) == [REF, REF], "at the settle, then at the end"
    assert local_activities(events) == 1, "the end's release deletes the evidence"
    plain = Script({CREATE_PROCESS: [APPROVED]})
    await onboard(plain, review={"enabled": False})
    assert plain.called(CREATE_PROCESS)[0]["keep_evidence"] is False, "review turned off"
    silent = Script({CREATE_PROCESS: [APPROVED]})
    await onboard(silent)
    assert silent.called(CREATE_PROCESS)[0]["keep_evidence"] is None, "the deployment's call"
