"""Unico's webhook, end to end: the sandbox announces, the gateway signals, the workflow reads.

Real parts only: the sandbox as a child process delivering over HTTP to the gateway, which
uvicorn serves on a free port, and which finds onboardings through the dev server's
visibility index. Onboardings here run in real time (no skipped timers) with a 60 s poll
interval, so only the webhook can end their wait early.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.selfies.local_store import SelfieStore
from devstack.demo import SAMPLE_SELFIE
from devstack.history import counts, events_of
from devstack.stack import free_port
from onboarding.gateway.service import create_gateway
from onboarding.runtime.settings import Settings, settings_from
from onboarding_client.contract.names import STATUS_QUERY
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.contract.status import OnboardingStatus, Stage
from onboarding_client.onboardings import start_onboarding
from tests.integration.workers import serving_workers
from tests.serving import serving
from tests.support import (
    GATEWAY_TOKEN,
    WEBHOOK_TOKEN,
    KeyPair,
    Sandbox,
    running_sandbox,
    webhook_args,
    worker_environment,
)

AUTH = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
SLOW_POLL = {"poll_initial_seconds": 60, "poll_max_seconds": 60}
SANDBOX_DELAY = 1.0


class Stack:
    def __init__(
        self,
        client: Client,
        settings: Settings,
        selfies: SelfieStore,
        sandbox: Sandbox,
        gateway: str,
    ) -> None:
        self.client, self.settings, self.sandbox, self.gateway = client, settings, sandbox, gateway
        self.selfies = selfies

    def request(self, cpf: str, **options: Any) -> OnboardingRequest:
        return OnboardingRequest.model_validate(
            {
                "request_id": f"webhook-{uuid.uuid4().hex[:12]}",
                "subject": {"code": cpf, "name": "Maria Silva"},
                "selfie_ref": self.selfies.put(SAMPLE_SELFIE.read_bytes()),
                "options": options,
            }
        )

    async def start(self, cpf: str, **options: Any) -> WorkflowHandle[Any, OnboardingResult]:
        return await start_onboarding(self.client, self.request(cpf, **options), self.task_queue)

    @property
    def task_queue(self) -> str:
        return self.settings.task_queue

    def webhooks(self, **changes: Any) -> dict[str, Any]:
        url = f"{self.sandbox.url}/_sandbox/webhooks"
        answer = httpx.post(url, json=changes) if changes else httpx.get(url)
        answer.raise_for_status()
        return dict(answer.json())

    async def notify(self, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as http:
            return await http.post(
                f"{self.gateway}/webhooks/unico",
                json=body,
                headers=AUTH if headers is None else headers,
            )


def stack_environment(
    keys: KeyPair, sandbox: Sandbox, work: Path, task_queue: str
) -> dict[str, str]:
    """Worker and gateway variables: the sandbox is Unico, uploads and the webhook take
    bearer tokens."""
    return {
        **worker_environment(keys, sandbox, work / "selfies"),
        "TASK_QUEUE": task_queue,
        "TEMPORAL_DEPLOYMENT_NAME": f"onboarding-{task_queue}",
        "TEMPORAL_WORKER_BUILD_ID": "test",
        "GATEWAY_API_TOKEN": GATEWAY_TOKEN,
        "WEBHOOK_AUTH": "bearer",
        "WEBHOOK_BEARER_TOKEN": WEBHOOK_TOKEN,
    }


@pytest.fixture(scope="module")
def gateway_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def webhook_sandbox(keys: KeyPair, state: Path, gateway_port: int) -> Iterator[Sandbox]:
    log = state / "webhook-sandbox.log"
    with running_sandbox(keys, SANDBOX_DELAY, log, webhook_args(gateway_port)) as running:
        yield running


@pytest_asyncio.fixture(scope="module")
async def stack(
    env: WorkflowEnvironment,
    keys: KeyPair,
    state: Path,
    webhook_sandbox: Sandbox,
    gateway_port: int,
) -> AsyncIterator[Stack]:
    queue = f"onboarding-webhook-{uuid.uuid4().hex[:8]}"
    environment = stack_environment(keys, webhook_sandbox, state, queue)
    settings = settings_from(Settings, environment)
    selfies = SelfieStore(Path(environment["SELFIE_DIR"]))
    app = create_gateway(settings, selfies, temporal=env.client)
    async with (
        serving(app, port=gateway_port) as gateway,
        serving_workers(env.client, environment),
    ):
        yield Stack(env.client, settings, selfies, webhook_sandbox, gateway)


@pytest.fixture
def real_time(env: WorkflowEnvironment) -> Iterator[None]:
    with env.with_time_skipping_disabled():
        yield


async def result_within(handle: WorkflowHandle[Any, OnboardingResult], seconds: float = 30):
    # Well under the 60 s poll interval: only a webhook can end the wait in time.
    async with asyncio.timeout(seconds):
        return await handle.result()


async def wait_for_stage(handle: WorkflowHandle[Any, Any], stage: Stage, polls: int = 0):
    async with asyncio.timeout(20):
        while True:
            status = await handle.query(STATUS_QUERY, result_type=OnboardingStatus)
            if status.stage == stage and status.polls >= polls:
                return status
            await asyncio.sleep(0.1)


async def test_the_webhook_ends_a_60s_wait(stack: Stack, real_time: None) -> None:
    handle = await stack.start("00000000353", **SLOW_POLL)
    result = await result_within(handle)

    assert result.outcome == Outcome.REVIEW
    events = counts(await events_of(handle))
    assert events["WORKFLOW_EXECUTION_SIGNALED"] >= 1
    assert events["TIMER_CANCELED"] == 1, "the webhook cut the poll timer short"
    assert events["TIMER_FIRED"] == 0
    status = await handle.query(STATUS_QUERY, result_type=OnboardingStatus)
    assert status.polls == 1, "one read, right after the webhook"


async def test_duplicate_webhooks_are_harmless(stack: Stack, real_time: None) -> None:
    before = stack.webhooks(duplicates=2)["deliveries"]
    try:
        handle = await stack.start("00000000272", **SLOW_POLL)
        result = await result_within(handle)
        async with asyncio.timeout(10):
            while len(stack.webhooks()["deliveries"]) < len(before) + 3:
                await asyncio.sleep(0.1)
    finally:
        stack.webhooks(duplicates=0)
    assert result.outcome == Outcome.APPROVED
    mine = [d for d in stack.webhooks()["deliveries"] if d["process_id"] == result.process_id]
    assert len(mine) == 3
    assert {d["http_status"] for d in mine} <= {200, 202}, "every copy was accepted"
    assert result.attempts == 1


async def test_with_webhooks_off_polling_alone_finishes(stack: Stack) -> None:
    stack.webhooks(enabled=False)
    try:
        handle = await stack.start("00000000434", poll_initial_seconds=1, poll_max_seconds=2)
        result = await handle.result()
    finally:
        stack.webhooks(enabled=True)
    assert result.outcome == Outcome.REJECTED
    events = counts(await events_of(handle))
    assert events["WORKFLOW_EXECUTION_SIGNALED"] == 0
    assert events["TIMER_FIRED"] >= 1
    assert not [d for d in stack.webhooks()["deliveries"] if d["process_id"] == result.process_id]


@pytest.fixture
def slow_unico(stack: Stack) -> Iterator[None]:
    """Unico takes an hour: only a webhook sent by the test reaches the workflow."""
    stack.sandbox.configure(async_delay_seconds=3600)
    try:
        yield
    finally:
        stack.sandbox.configure(async_delay_seconds=SANDBOX_DELAY)


async def test_bad_credentials_get_401_and_signal_nothing(
    stack: Stack, real_time: None, slow_unico: None
) -> None:
    handle = await stack.start("00000000353", **SLOW_POLL)
    status = await wait_for_stage(handle, Stage.WAITING)
    body = {"processId": status.process_id}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": WEBHOOK_TOKEN}):
        answer = await stack.notify(body, headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
    try:
        assert (counts(await events_of(handle)))["WORKFLOW_EXECUTION_SIGNALED"] == 0
    finally:
        await handle.cancel()


async def test_an_early_webhook_only_makes_the_workflow_read_again(
    stack: Stack, real_time: None, slow_unico: None
) -> None:
    handle = await stack.start("00000000353", **SLOW_POLL)
    status = await wait_for_stage(handle, Stage.WAITING)
    answer = await stack.notify({"processId": status.process_id, "state": "finished"})
    assert answer.status_code == 202
    # Unico still says "processing": the workflow read it and went back to waiting.
    status = await wait_for_stage(handle, Stage.WAITING, polls=1)
    assert status.unico_status == 1
    await handle.cancel()
    result = await result_within(handle)
    assert result.outcome == Outcome.CANCELED
    late = await stack.notify({"processId": status.process_id})
    assert (late.status_code, late.json()) == (200, {"status": "already_decided"})


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"processId": "00000000-0000-4000-8000-000000000000"}, 503),
        ({"processId": "x' OR WorkflowType != '"}, 400),
        ({"state": "finished"}, 400),
        (["not", "an", "object"], 400),
    ],
)
async def test_what_the_gateway_cannot_act_on(stack: Stack, body: Any, status: int) -> None:
    answer = await stack.notify(body)
    assert answer.status_code == status
    if status == 503:
        assert answer.json() == {"status": "unknown_process"}
        assert int(answer.headers["retry-after"]) >= 1, "Unico retries while the index catches up"


async def test_a_body_that_is_not_json_is_refused(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{stack.gateway}/webhooks/unico", content=b"{", headers=AUTH)
    assert answer.status_code == 400
