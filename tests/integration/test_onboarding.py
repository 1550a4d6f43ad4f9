"""The Onboarding workflow on a real dev server (timers skipped) against the sandbox."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio.client import Client

from activities.selfies.local_store import SelfieStore
from devstack.scenarios import SCENARIOS, Scenario
from onboarding.runtime.settings import Settings
from onboarding_client.contract.names import (
    OUTCOME_ATTRIBUTE,
    PROCESS_ATTRIBUTE,
    STAGE_ATTRIBUTE,
    STATUS_QUERY,
    WORKFLOW_TYPE,
)
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.contract.status import OnboardingStatus, Stage
from onboarding_client.onboardings import start_onboarding
from tests.integration.onboard import FAST, delta, request
from tests.support import Sandbox


async def run(client: Client, settings: Settings, req: OnboardingRequest) -> OnboardingResult:
    handle = await start_onboarding(client, req, settings.task_queue)
    return await handle.result()


RETRIED = {"00000000604", "00000000787", "00000000868"}  # a new process may change these


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.cpf)
async def test_every_scenario_reaches_its_outcome(
    client: Client, settings: Settings, selfies: SelfieStore, sandbox: Sandbox, scenario: Scenario
):
    before = sandbox.stats()
    result = await run(client, settings, request(selfies, scenario.cpf))
    calls = delta(before, sandbox.stats())

    assert result.outcome == scenario.expected
    assert result.reasons
    expected_attempts = FAST["max_process_attempts"] if scenario.cpf in RETRIED else 1
    assert result.attempts == expected_attempts
    assert calls["create_requests"] == calls["processes_created"] == expected_attempts
    assert calls["token_requests"] <= 1, "the per-worker cache serves every call"
    if scenario.cpf in {"12345678909", "00000000191", "00000000949", "00000000787"}:
        assert calls["get_requests"] == 0, "a synchronous answer needs no polling"
    else:
        assert calls["get_requests"] >= 1
    assert result.process_id


async def test_async_result_carries_the_unico_facts(
    client: Client, settings: Settings, selfies: SelfieStore
):
    result = await run(client, settings, request(selfies, "00000000272"))
    assert (result.unico_status, result.unico_id, result.score) == (3, "inconclusive", 90)
    assert result.reasons[0].code == "score.approve"


@pytest.mark.parametrize(
    ("raw_change", "code"),
    [
        ({"subject": None}, "unico.20004"),
        ({"subject": {"name": "Maria"}}, "unico.20005"),
        ({"subject": {"code": "12345678909"}}, "unico.20006"),
        ({"subject": {"code": "12345678900", "name": "Maria"}}, "unico.20507"),
        ({"selfie_ref": None}, "unico.20009"),
        ({"selfie_ref": "local:" + "0" * 32}, "unico.20009"),
        ({"selfie_ref": "../../etc/passwd"}, "unico.20009"),
    ],
)
async def test_bad_requests_end_before_any_call_to_unico(
    client: Client, settings: Settings, sandbox: Sandbox, raw_change: dict[str, Any], code: str
):
    raw: dict[str, Any] = {
        "request_id": uuid.uuid4().hex,
        "subject": {"code": "12345678909", "name": "Maria"},
        "selfie_ref": "local:" + "1" * 32,
    }
    raw.update({k: v for k, v in raw_change.items() if v is not None})
    for key in [k for k, v in raw_change.items() if v is None]:
        del raw[key]
    before = sandbox.stats()
    result = await client.execute_workflow(
        WORKFLOW_TYPE,
        raw,
        id=f"onboarding-{raw['request_id']}",
        task_queue=settings.task_queue,
        result_type=OnboardingResult,
    )
    assert result.outcome == Outcome.INVALID_REQUEST
    assert result.reasons[0].code == code
    assert delta(before, sandbox.stats()) == dict.fromkeys(delta(before, before), 0)


def image(size: tuple[int, int], fmt: str) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (image((320, 240), "JPEG"), "unico.20807"),
        (image((800, 600), "GIF"), "unico.20505"),
        (b"this is not an image", "unico.20900"),
    ],
)
async def test_bad_selfies_end_before_any_call_to_unico(
    client: Client,
    settings: Settings,
    selfies: SelfieStore,
    sandbox: Sandbox,
    data: bytes,
    code: str,
):
    before = sandbox.stats()
    result = await run(client, settings, request(selfies, "12345678909", image=data))
    assert (result.outcome, result.reasons[0].code) == (Outcome.INVALID_REQUEST, code)
    assert delta(before, sandbox.stats())["create_requests"] == 0


async def test_deadline_ends_a_waiting_onboarding_as_expired(
    client: Client, settings: Settings, selfies: SelfieStore, sandbox: Sandbox
):
    sandbox.configure(async_delay_seconds=3600)
    try:
        req = request(selfies, "00000000353", deadline_seconds=6)
        result = await run(client, settings, req)
    finally:
        sandbox.configure(async_delay_seconds=1.0)
    assert result.outcome == Outcome.EXPIRED
    assert result.reasons[0].code == "deadline"
    assert result.attempts == 1


async def test_status_query_and_search_attributes(
    client: Client, settings: Settings, selfies: SelfieStore
):
    req = request(selfies, "00000000353")
    handle = await start_onboarding(client, req, settings.task_queue)
    result = await handle.result()
    status = await handle.query(STATUS_QUERY, result_type=OnboardingStatus)
    assert status.stage == Stage.DECIDED
    assert status.outcome == Outcome.REVIEW
    assert status.process_id == result.process_id
    assert status.polls >= 1
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(STAGE_ATTRIBUTE) == "decided"
    assert attributes.get(OUTCOME_ATTRIBUTE) == "review"
    assert attributes.get(PROCESS_ATTRIBUTE) == result.process_id
    # Since `lean-history` the reasons are the result's alone: no memo repeats them.
    assert result.reasons[0].code == "score.review"
    assert "reasons" not in await (await handle.describe()).memo()


async def test_a_repeated_start_joins_instead_of_creating_a_second_process(
    client: Client, settings: Settings, selfies: SelfieStore, sandbox: Sandbox
):
    req = request(selfies, "00000000272")
    before = sandbox.stats()
    first = await start_onboarding(client, req, settings.task_queue)
    second = await start_onboarding(client, req, settings.task_queue)
    assert second.id == first.id
    await first.result()
    third = await start_onboarding(client, req, settings.task_queue)  # after it closed
    assert (await third.result()).outcome == Outcome.APPROVED
    assert delta(before, sandbox.stats())["processes_created"] == 1


async def test_a_long_wait_continues_as_new_and_keeps_its_state(
    client: Client, settings: Settings, selfies: SelfieStore, sandbox: Sandbox
):
    sandbox.configure(async_delay_seconds=8)
    try:
        req = request(selfies, "00000000353", poll_initial_seconds=1, poll_max_seconds=1)
        handle = await start_onboarding(client, req, settings.task_queue)
        result = await handle.result()
    finally:
        sandbox.configure(async_delay_seconds=1.0)
    assert result.outcome == Outcome.REVIEW
    assert result.attempts == 1, "the carried state kept the attempt count"
    query = f"WorkflowId = '{handle.id}'"
    runs = [execution.run_id async for execution in client.list_workflows(query)]
    assert len(runs) >= 2, "the wait crossed at least one continue-as-new"
    status = await handle.query(STATUS_QUERY, result_type=OnboardingStatus)
    assert status.polls >= 3, "polls count across runs"
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(PROCESS_ATTRIBUTE) == result.process_id
