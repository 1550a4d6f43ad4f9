"""The workflow's own logic on the session's time-skipping server, its activities stubbed:
one stubbed worker per test module, and a request builder."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from devstack.history import events_of
from onboarding_client.contract.names import WORKFLOW_TYPE
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.onboardings import start_onboarding
from tests.workflow.stubs import Script, StubbedWorker, stubbed_worker

Onboard = Callable[..., Awaitable[tuple[OnboardingResult, list[Any]]]]


def request(**options: Any) -> OnboardingRequest:
    return OnboardingRequest.model_validate(
        {
            "request_id": uuid.uuid4().hex,
            "subject": {"code": "12345678909", "name": "Maria Silva"},
            "selfie_ref": "local:" + "0" * 32,
            "options": {"poll_initial_seconds": 1, "poll_max_seconds": 1, **options},
        }
    )


@pytest_asyncio.fixture(scope="module")
async def worker(env: WorkflowEnvironment) -> AsyncIterator[StubbedWorker]:
    async with stubbed_worker(env.client) as stubbed:
        yield stubbed


@pytest.fixture
def onboard(env: WorkflowEnvironment, worker: StubbedWorker) -> Onboard:
    """Run one onboarding to its end with `script`: its result and its history."""

    async def run(script: Script, **options: Any) -> tuple[OnboardingResult, list[Any]]:
        worker.script = script
        handle = await start_onboarding(env.client, request(**options), worker.queue)
        result = await handle.result()
        return result, await events_of(handle)

    return run


async def start_as_any_client(
    env: WorkflowEnvironment, worker: StubbedWorker, args: list[Any], workflow_id: str
) -> WorkflowHandle[Any, OnboardingResult]:
    """An onboarding started as a plain client may: these arguments, this workflow id."""
    return await env.client.start_workflow(
        WORKFLOW_TYPE,
        args=args,
        id=workflow_id,
        task_queue=worker.queue,
        result_type=OnboardingResult,
    )
