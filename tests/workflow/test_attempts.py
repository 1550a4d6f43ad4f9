"""`attempts` in the result counts the create requests sent to Unico: none for a selfie that
`open_process` refused before any call, one for an onboarding Unico answered at once. The
commands stay those of the recorded histories: the create's summary still numbers the try."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from contracts.unico import SelfieCheck
from devstack.history import of_kind
from onboarding_client.contract.outcome import Outcome
from tests.workflow.conftest import Onboard
from tests.workflow.stubs import CREATE_PROCESS, INSPECT_SELFIE, Script

REFUSED = {
    "image refused": (
        SelfieCheck(ok=False, code=20807, message="under 640x480"),
        "invalid_request",
    ),
    "capture too old": (SelfieCheck(ok=False, code=10507, message="past 10 min"), "recapture"),
    "no selfie": (SelfieCheck(ok=False, code=20009, message="no selfie"), "invalid_request"),
}


async def summaries(env: WorkflowEnvironment, events: list[Any]) -> list[str]:
    """The summary of each activity the workflow scheduled (a part of its command)."""
    scheduled = of_kind(events, "ACTIVITY_TASK_SCHEDULED")
    payloads = [event.user_metadata.summary for event in scheduled]
    return [str(text) for text in await env.client.data_converter.decode(payloads)]


@pytest.mark.parametrize(("check", "outcome"), REFUSED.values(), ids=list(REFUSED))
async def test_a_selfie_refused_before_any_create_counts_no_attempt(
    env: WorkflowEnvironment, onboard: Onboard, check: SelfieCheck, outcome: str
) -> None:
    script = Script({INSPECT_SELFIE: [check]})
    result, events = await onboard(script)
    assert (result.outcome, result.attempts, result.ambiguous_creates) == (Outcome(outcome), 0, 0)
    assert script.called(CREATE_PROCESS) == []
    assert (await summaries(env, events))[0] == "check the selfie, create Unico process (attempt 1)"


async def test_an_onboarding_unico_answered_at_once_counts_one_attempt(onboard: Onboard) -> None:
    script = Script()  # the selfie passes; the create answers status 3, unicoId yes
    result, _ = await onboard(script)
    assert (result.outcome, result.attempts) == (Outcome.APPROVED, 1)
    assert len(script.called(CREATE_PROCESS)) == 1
