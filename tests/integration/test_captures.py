"""A capture of Unico's SDK through the real worker: stored like a selfie, told apart by
content, sent to Unico as it is (the sandbox's capture SDK seals it; nothing of ours opens
it), and Unico's answers to it: a live capture gets the CPF's verdict, a spoof fails
liveness, a capture used twice or past its 10 minutes asks for a new capture."""

from __future__ import annotations

import base64
import os
import time
import uuid
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.selfies.cleanup import SelfieCleanup
from activities.selfies.local_store import SelfieStore
from activities.unico.auth import ServiceAccount, TokenCache
from activities.unico.processes import UnicoActivities
from contracts.unico import CreateProcessInput
from devstack.watch import until_stage
from onboarding.runtime.settings import Settings
from onboarding_client.contract.names import RETRY_NOW_SIGNAL
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest, Subject
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import start_onboarding
from tests.integration.onboard import FAST, SAMPLE, delta
from tests.support import API_KEY, SERVICE_ACCOUNT, KeyPair, Sandbox

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
    assert result.selfie == "capture", "the result says liveness was checked"
    plain = await onboard(client, settings, selfies, SAMPLE)
    assert (plain.outcome, plain.selfie) == (Outcome.APPROVED, "image")


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


async def test_a_lost_create_answer_then_10508_ends_recapture_with_the_create_counted(
    client: Client, settings: Settings, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    before = sandbox.stats()
    sandbox.inject({"endpoint": "create", "drop_connection": True})
    result = await onboard(client, settings, selfies, sealed(sandbox))
    assert (result.outcome, result.reasons[0].code) == (Outcome.RECAPTURE, "unico.10508")
    assert (result.attempts, result.ambiguous_creates) == (2, 1)
    assert delta(before, sandbox.stats())["processes_created"] == 1, "Unico holds the first"


async def test_a_capture_that_expires_while_blocked_is_never_sent(
    client: Client, settings: Settings, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    sandbox.inject({"endpoint": "create", "code": 10201, "times": None})  # a wrong APIKEY
    capture = sealed(sandbox)
    request = OnboardingRequest.model_validate(
        {
            "request_id": uuid.uuid4().hex,
            "subject": {"code": SYNC_CPF, "name": "Maria Silva"},
            "selfie_ref": selfies.put(capture),
            "options": {**FAST, "configuration_retry": {"initial_seconds": 1, "max_seconds": 1}},
        }
    )
    handle = await start_onboarding(client, request, settings.task_queue)
    await until_stage(handle, Stage.BLOCKED_CONFIGURATION)
    # Ten minutes pass while an operator fixes the key: the capture is past its time.
    path = selfies.root / request.selfie_ref.split(":")[1]
    os.utime(path, (time.time() - 601, time.time() - 601))
    sandbox.clear_faults()
    before = sandbox.stats()
    await handle.signal(RETRY_NOW_SIGNAL)
    result = await handle.result()
    assert (result.outcome, result.reasons[0].code) == (Outcome.RECAPTURE, "unico.10507")
    assert delta(before, sandbox.stats())["create_requests"] == 0, "nothing sent to Unico"


def creating(selfies: SelfieStore, selfie: bytes) -> CreateProcessInput:
    """The create's input for `selfie`, stored."""
    return CreateProcessInput(
        subject=Subject(code=SYNC_CPF, name="Maria Silva"),
        use_case="Onboarding",
        subsidiary_id=None,
        selfie_ref=selfies.put(selfie),
    )


async def test_a_deployment_that_demands_captures_refuses_a_plain_image(
    sandbox: Sandbox, keys: KeyPair, selfies: SelfieStore
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        account = ServiceAccount.from_key_file(
            SERVICE_ACCOUNT, sandbox.url, f"{sandbox.url}/oauth2/token", keys.private
        )
        unico = UnicoActivities(
            http, TokenCache(account, http, safety_margin=60), selfies, sandbox.url, API_KEY,
            SelfieCleanup(selfies, 0), capture_required=True,
        )  # fmt: skip
        before = sandbox.stats()
        opened = await ActivityEnvironment().run(unico.open_process, creating(selfies, SAMPLE))
        assert opened.refused is not None and opened.refused.code == 10506
        capture = sealed(sandbox)
        live = await ActivityEnvironment().run(unico.open_process, creating(selfies, capture))
    assert live.process is not None
    assert delta(before, sandbox.stats())["create_requests"] == 1, "the plain image never left"
