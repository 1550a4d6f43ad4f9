"""A capture of Unico's SDK past its 10 minutes, refused by the create before any call:
the onboarding ends `recapture` (the app asks for a new capture), not `invalid_request`.
A capture sent again after its worker died with the first create out meets 10508: the
onboarding ends `recapture` and still counts the lost create."""

from __future__ import annotations

from contracts.unico import SelfieCheck
from onboarding_client.contract.outcome import Outcome
from tests.workflow.conftest import Onboard
from tests.workflow.stubs import CREATE_PROCESS, INSPECT_SELFIE, Fail, Script

TOO_OLD = SelfieCheck(ok=False, code=10507, message="the capture is past its 10 minutes")


async def test_a_capture_past_its_time_ends_recapture_without_a_create(onboard: Onboard) -> None:
    script = Script({INSPECT_SELFIE: [TOO_OLD]})
    result, _ = await onboard(script)
    assert (result.outcome, [r.code for r in result.reasons]) == (
        Outcome.RECAPTURE,
        ["unico.10507"],
    )
    assert script.called(CREATE_PROCESS) == []


async def test_other_refusals_of_the_selfie_stay_invalid_request(onboard: Onboard) -> None:
    refused = SelfieCheck(ok=False, code=20807, message="under 640x480")
    result, _ = await onboard(Script({INSPECT_SELFIE: [refused]}))
    assert (result.outcome, result.reasons[0].code) == (Outcome.INVALID_REQUEST, "unico.20807")


async def test_a_create_lost_with_its_worker_is_counted_when_10508_ends_it(
    onboard: Onboard,
) -> None:
    # The retried create's claim said one create had left unanswered; Unico then answered
    # 10508 (the capture was used by that create), which ends the onboarding.
    used = Fail("recapture", "10508", non_retryable=True, system="unico", unanswered_creates=1)
    result, _ = await onboard(Script({CREATE_PROCESS: [used]}))
    assert (result.outcome, [r.code for r in result.reasons]) == (
        Outcome.RECAPTURE,
        ["unico.10508"],
    )
    assert (result.attempts, result.ambiguous_creates) == (2, 1)
