"""A capture of Unico's SDK through the real worker: stored like a selfie, told apart by
content, sent to Unico as it is (the sandbox's capture SDK seals it; nothing of ours opens
it), and Unico's answers to it: a live capture gets the CPF's verdict, a spoof fails
liveness, a capture used twice or past its 10 minutes asks for a new capture."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from temporalio.client import Client

from activities.selfies.local_store import SelfieStore
from contracts.outcome import Outcome
from contracts.request import OnboardingRequest
from contracts.result import OnboardingResult
from onboarding.runtime.settings import Settings
from onboarding.temporal.client import start_onboarding
from tests.integration.onboard import FAST, SAMPLE, delta
from tests.support import Sandbox

SYNC_CPF = "12345678909"


def sealed(sandbox: Sandbox, **order: Any) -> bytes:
    """A capture as the app gets it from the SDK (the sandbox's stand-in)."""
    image = base64.b64encode(SAMPLE).decode()
    made = sandbox.request("POST", "captures", {"image_base64": image, **order})
    return str(made["capture"]).encode("ascii")


async def onboard(
    client: Client, settings: Settings, selfies: SelfieStore, capture: bytes
) -> OnboardingResult:
    request = OnboardingRequest.model_validate(
        {
            "request_id": uuid.uuid4().hex,
            "subject": {"code": SYNC_CPF, "name": "Maria Silva"},
            "selfie_ref": selfies.put(capture),
            "options": FAST,
        }
    )
    result: OnboardingResult = await (
        await start_onboarding(client, request, settings.task_queue)
    ).result()
    return result


async def test_a_live_capture_gets_the_cpf_s_verdict_with_one_create(
    client: Client, settings: Settings, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    before = sandbox.stats()
    result = await onboard(client, settings, selfies, sealed(sandbox))
    assert result.outcome == Outcome.APPROVED
    assert delta(before, sandbox.stats())["create_requests"] == 1


async def test_a_spoof_fails_liveness(
    client: Client, settings: Settings, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    result = await onboard(client, settings, selfies, sealed(sandbox, liveness="spoof"))
    assert result.outcome == Outcome.REJECTED
    assert [r.code for r in result.reasons] == ["liveness.2"]


async def test_a_capture_used_twice_or_too_old_asks_for_a_new_one(
    client: Client, settings: Settings, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    capture = sealed(sandbox)
    assert (await onboard(client, settings, selfies, capture)).outcome == Outcome.APPROVED
    reused = await onboard(client, settings, selfies, capture)  # a second upload of it
    old = await onboard(client, settings, selfies, sealed(sandbox, age_seconds=601))
    assert (reused.outcome, reused.reasons[0].code) == (Outcome.RECAPTURE, "unico.10508")
    assert (old.outcome, old.reasons[0].code) == (Outcome.RECAPTURE, "unico.10507")
