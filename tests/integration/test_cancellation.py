"""Canceling an onboarding through Temporal ends it with outcome `canceled` and leaves
no timer or activity behind, whether it was waiting for Unico or calling it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.selfies.local_store import SelfieStore
from devstack.demo import SAMPLE_SELFIE
from devstack.history import counts, events_of
from devstack.stack import free_port
from onboarding.runtime.settings import Settings
from onboarding_client.contract.names import OUTCOME_ATTRIBUTE, STAGE_ATTRIBUTE
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.onboardings import start_onboarding
from tests.integration.workers import serving_workers


def request(selfies: SelfieStore, cpf: str, **options: Any) -> OnboardingRequest:
    return OnboardingRequest.model_validate(
        {
            "request_id": f"cancel-{uuid.uuid4().hex[:12]}",
            "subject": {"code": cpf, "name": "Maria Silva"},
            "selfie_ref": selfies.put(SAMPLE_SELFIE.read_bytes()),
            "options": options,
        }
    )


async def until(predicate: Any, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.1)


async def assert_canceled_cleanly(handle: WorkflowHandle[Any, OnboardingResult]) -> None:
    await handle.cancel()
    result = await handle.result()
    assert result.outcome == Outcome.CANCELED
    assert [r.code for r in result.reasons] == ["workflow.canceled"]
    description = await handle.describe()
    assert list(description.raw_description.pending_activities) == []
    assert description.typed_search_attributes.get(OUTCOME_ATTRIBUTE) == "canceled"
    assert description.typed_search_attributes.get(STAGE_ATTRIBUTE) == "decided"


def assert_selfie_released(selfies: SelfieStore, req: OnboardingRequest) -> None:
    assert not selfies.exists(req.selfie_ref), "a canceled onboarding deletes its selfie too"


async def test_canceling_a_waiting_onboarding_cancels_its_timer(
    env: WorkflowEnvironment, client: Client, settings: Settings, selfies: SelfieStore
) -> None:
    req = request(selfies, "00000000353", poll_initial_seconds=60, poll_max_seconds=60)
    with env.with_time_skipping_disabled():  # a skipped timer would fire before the cancel
        handle = await start_onboarding(client, req, settings.task_queue)

    async def timer_started() -> bool:
        return (counts(await events_of(handle)))["TIMER_STARTED"] == 1

    await until(timer_started)
    await assert_canceled_cleanly(handle)
    assert_selfie_released(selfies, req)
    events = counts(await events_of(handle))
    assert (events["TIMER_CANCELED"], events["TIMER_FIRED"]) == (1, 0)


@pytest_asyncio.fixture
async def unreachable_unico(
    client: Client, environment: dict[str, str], settings: Settings
) -> AsyncIterator[Settings]:
    """A worker whose process API refuses connections: the create retries with backoff."""
    async with serving_workers(
        client,
        environment,
        unico_api_url=f"http://127.0.0.1:{free_port()}",
        task_queue=f"{settings.task_queue}-dead-api",
    ) as dead:
        yield dead.settings


async def test_canceling_an_onboarding_mid_call_cancels_its_activity(
    client: Client, unreachable_unico: Settings, selfies: SelfieStore
) -> None:
    req = request(selfies, "12345678909")
    handle = await start_onboarding(client, req, unreachable_unico.task_queue)

    async def create_is_retrying() -> bool:
        pending = (await handle.describe()).raw_description.pending_activities
        return any(a.activity_type.name == "open_process" and a.attempt >= 2 for a in pending)

    await until(create_is_retrying)
    await assert_canceled_cleanly(handle)
    assert_selfie_released(selfies, req)
    events = counts(await events_of(handle))
    assert events["ACTIVITY_TASK_CANCEL_REQUESTED"] == 1
    # The selfie's check and the token are in the create; its release is a local activity.
    assert events["ACTIVITY_TASK_COMPLETED"] == 0
    assert events["MARKER_RECORDED"] >= 1
