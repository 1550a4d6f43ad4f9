"""What the workflow does about each error class, one row of the reaction table at a time.

`create_process` (stubbed) fails once with the class, then succeeds; the remedy the table
names must show in what the workflow did next: the activity retried by its own policy, a new
token then the call again, a durable wait for an operator in the blocked stage, a new
process, or the end of the onboarding with the table's outcome. The same for `get_process`
where the remedy is about reading the process.
"""

from __future__ import annotations

import pytest

from devstack.history import of_kind, scheduled_activities, stage_upserts
from onboarding_client.contract.outcome import Outcome
from tests.workflow.conftest import Onboard
from tests.workflow.stubs import CREATE_PROCESS, GET_PROCESS, OPEN_PROCESS, PENDING, Fail, Script
from workflows.reactions import REACTIONS, UNKNOWN, Remedy

CODE = "99000"  # the code the stubbed error carries, to find in the reasons


@pytest.mark.parametrize("error_class", list(REACTIONS))
async def test_a_failed_create_gets_its_class_s_remedy(onboard: Onboard, error_class: str) -> None:
    reaction = REACTIONS[error_class]
    script = Script({CREATE_PROCESS: [Fail(error_class, CODE)]})
    result, events = await onboard(script)

    creates = script.called(CREATE_PROCESS)
    scheduled = scheduled_activities(events).count(OPEN_PROCESS)  # selfie, token, create
    if reaction.remedy is Remedy.RETRY_IN_ACTIVITY:
        # One activity, two attempts: the retry policy's, not the workflow's.
        assert len(creates) == 2 and scheduled == 1
        assert (result.outcome, result.attempts) == (Outcome.APPROVED, 1)
    elif reaction.remedy is Remedy.NEW_TOKEN:
        # The activity dropped the refused token: the call again gets a new one, no
        # token activity of its own.
        assert set(scheduled_activities(events)) == {OPEN_PROCESS}
        assert len(creates) == 2 and scheduled == 2
        assert (result.outcome, result.attempts) == (Outcome.APPROVED, 1)
    elif reaction.remedy is Remedy.WAIT_FOR_OPERATOR:
        assert reaction.stage is not None
        assert reaction.stage.value in stage_upserts(events)
        assert stage_upserts(events)[-2:] == ["creating", "decided"], "healed, then decided"
        assert len(of_kind(events, "TIMER_STARTED")) == 1, "one durable wait, then the retry"
        assert len(creates) == 2 and (result.outcome, result.attempts) == (Outcome.APPROVED, 1)
    elif reaction.remedy is Remedy.NEW_PROCESS:
        # The process is lost: another create, a new attempt, after a short wait.
        assert len(creates) == 2 and scheduled == 2
        assert (result.outcome, result.attempts) == (Outcome.APPROVED, 2)
    else:
        assert reaction.remedy is Remedy.FINISH
        assert len(creates) == 1
        assert result.outcome == reaction.outcome
        assert [r.code for r in result.reasons] == [f"unico.{CODE}"]


@pytest.mark.parametrize(
    "error_class", [c for c, r in REACTIONS.items() if r.remedy is not Remedy.RETRY_IN_ACTIVITY]
)
async def test_a_remedy_that_never_heals_ends_with_the_table_s_outcome(
    onboard: Onboard, error_class: str
) -> None:
    """The create fails every time: the remedy runs out (token refreshes, process attempts,
    the deadline of the waits for an operator) and the table's outcome stands."""
    reaction = REACTIONS[error_class]
    script = Script({CREATE_PROCESS: [Fail(error_class, CODE)] * 12})
    options = {"max_process_attempts": 2, "deadline_seconds": 300}
    result, _ = await onboard(script, **options)
    assert result.outcome == reaction.outcome
    assert result.reasons[0].code == f"unico.{CODE}"


async def test_an_error_no_table_knows_ends_the_onboarding(onboard: Onboard) -> None:
    script = Script({CREATE_PROCESS: [Fail("no-such-class", CODE, non_retryable=True)]})
    result, _ = await onboard(script)
    assert result.outcome == UNKNOWN.outcome == Outcome.ERROR
    assert len(script.called(CREATE_PROCESS)) == 1


@pytest.mark.parametrize(
    "error_class", [c for c, r in REACTIONS.items() if r.remedy is Remedy.NEW_PROCESS]
)
async def test_a_process_lost_while_waiting_is_created_again(
    onboard: Onboard, error_class: str
) -> None:
    script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [Fail(error_class, CODE)]})
    result, events = await onboard(script)
    assert (result.outcome, result.attempts) == (Outcome.APPROVED, 2)
    assert scheduled_activities(events).count(OPEN_PROCESS) == 2
