"""A fleet of real worker processes: the fleet-wide Unico rate limit and graceful shutdown.

One real-time dev server; each test brings its own sandbox (a rate-limited one, one whose
create answers slowly by a fault rule) and its own task queue, and starts `python -m worker`
processes as a deployment would.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.selfies import SelfieStore
from onboarding.client import start_onboarding
from onboarding.demo import SAMPLE_SELFIE
from onboarding.settings import Settings
from tests.e2e.fleet import WorkerProcess, max_in_any_window, start_worker, target
from tests.support import KeyPair, Sandbox, running_sandbox, worker_environment
from workflows.models import OnboardingRequest, Outcome

pytestmark = pytest.mark.e2e

APPROVED_AT_ONCE = "12345678909"  # create answers status 3: one process-API call each
TENANT_RATE = 10.0  # Unico's published default, enforced by the sandbox
TENANT_BURST = 10  # the sandbox's stated burst: one second's worth
FLEET_RATE = Settings().unico_requests_per_second  # the default: half the tenant's limit
ONBOARDINGS = 30
ANSWER_DELAY_SECONDS = 8


def request(selfies: SelfieStore, cpf: str = APPROVED_AT_ONCE) -> OnboardingRequest:
    return OnboardingRequest.model_validate(
        {
            "request_id": uuid.uuid4().hex,
            "subject": {"code": cpf, "name": "Maria Silva"},
            "selfie_ref": selfies.put(SAMPLE_SELFIE.read_bytes()),
            "options": {"poll_initial_seconds": 1, "poll_max_seconds": 2},
        }
    )


def fleet_settings(
    temporal: WorkflowEnvironment, keys: KeyPair, sandbox: Sandbox, selfies: Path
) -> dict[str, str]:
    return {
        **worker_environment(keys, sandbox, selfies),
        "TEMPORAL_ADDRESS": target(temporal),
        "TASK_QUEUE": f"fleet-{uuid.uuid4().hex[:8]}",
        "UNICO_REQUESTS_PER_SECOND": str(FLEET_RATE),
        "GRACEFUL_SHUTDOWN_SECONDS": "30",
    }


async def test_two_workers_keep_the_tenant_under_its_limit(
    temporal: WorkflowEnvironment, keys: KeyPair, state: Path
) -> None:
    limit = ["--tenant-rate-limit", str(TENANT_RATE), "--tenant-rate-burst", str(TENANT_BURST)]
    selfies = SelfieStore(state / "selfies-rate")
    with running_sandbox(keys, 1.0, state / "sandbox-rate.log", limit) as sandbox:
        settings = fleet_settings(temporal, keys, sandbox, selfies.root)
        workers = [start_worker(settings, state / f"rate-worker-{i}.log") for i in range(2)]
        try:
            for worker in workers:
                await asyncio.to_thread(worker.wait_ready)
            client = temporal.client
            handles = await asyncio.gather(
                *(
                    start_onboarding(client, request(selfies), settings["TASK_QUEUE"])
                    for _ in range(ONBOARDINGS)
                )
            )
            results = await asyncio.gather(*(handle.result() for handle in handles))
            seen = sandbox.rate_limit()
            scrapes = [worker.scrape() for worker in workers]
        finally:
            exits = [worker.stop() for worker in workers]

    arrivals = seen["arrivals"]
    busiest = max_in_any_window(arrivals)
    span = max(arrivals) - min(arrivals)
    shares = [_counter(s, "unico_requests", 'endpoint="/processes/v1"') for s in scrapes]
    print(
        f"\n{ONBOARDINGS} onboardings, 2 workers at {FLEET_RATE}/s (calls each: {shares}), "
        f"tenant limit {TENANT_RATE}/s burst {TENANT_BURST}: "
        f"{len(arrivals)} process-API calls in {span:.2f}s, at most {busiest} in any second, "
        f"{seen['refused']} refused"
    )
    assert [r.outcome for r in results] == [Outcome.APPROVED] * ONBOARDINGS
    assert all(r.attempts == 1 for r in results), "no 429 reached a workflow"
    assert len(arrivals) == ONBOARDINGS, "one create each, and no retried call"
    assert seen["refused"] == 0, "Unico never had to refuse the fleet"
    assert busiest <= TENANT_RATE + TENANT_BURST
    assert exits == [0, 0]
    # The workers' Prometheus endpoints account for every call and every decision.
    assert any("temporal_activity_execution_latency" in scrape for scrape in scrapes)
    assert sum(_counter(s, "onboarding_decisions", 'outcome="approved"') for s in scrapes) == (
        ONBOARDINGS
    )
    assert sum(_counter(s, "unico_requests", 'endpoint="/processes/v1"') for s in scrapes) == (
        ONBOARDINGS
    )


async def call_in_flight(handle: WorkflowHandle[Any, Any], activity_type: str) -> bool:
    pending = (await handle.describe()).raw_description.pending_activities
    return any(
        activity.activity_type.name == activity_type
        and activity.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        for activity in pending
    )


def _counter(scrape: str, name: str, label: str) -> float:
    """Sum of a counter's samples that carry `label`, from a Prometheus text scrape."""
    total = 0.0
    for line in scrape.splitlines():
        if line.startswith(name + "{") and label in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_sigterm_lets_the_running_call_finish_and_another_worker_decides(
    temporal: WorkflowEnvironment, keys: KeyPair, state: Path
) -> None:
    selfies = SelfieStore(state / "selfies-drain")
    with running_sandbox(keys, 1.0, state / "sandbox-drain.log") as sandbox:
        # A slow answer: the process is created at once, its answer comes this much later;
        # long enough for a second worker to start under load while the first one's call waits.
        sandbox.inject({"endpoint": "create", "delay_seconds": ANSWER_DELAY_SECONDS})
        settings = fleet_settings(temporal, keys, sandbox, selfies.root)
        first = start_worker(settings, state / "drain-worker-first.log")
        second: WorkerProcess | None = None
        try:
            await asyncio.to_thread(first.wait_ready)
            client: Client = temporal.client
            handle = await start_onboarding(client, request(selfies), settings["TASK_QUEUE"])
            while sandbox.stats()["processes_created"] == 0:  # create_process is in flight
                await asyncio.sleep(0.05)
            second = start_worker(settings, state / "drain-worker-second.log")
            await asyncio.to_thread(second.wait_ready)
            assert first.probe("readyz") == 200
            assert await call_in_flight(handle, "create_process"), "SIGTERM must come mid-call"
            first.terminate()
            await asyncio.sleep(0.5)
            draining = (first.probe("readyz"), first.probe("livez"), first.process.poll())
            first_exit = await asyncio.to_thread(first.wait)
            result = await handle.result()
            history = await handle.fetch_history()
            created = sandbox.stats()["processes_created"]
        finally:
            first.stop()
            if second is not None:
                second.stop()

    assert draining == (503, 200, None), "draining: not ready, still live, still running"
    assert first_exit == 0
    assert result.outcome == Outcome.APPROVED
    assert (result.attempts, created) == (1, 1), "one process: the call was never repeated"
    scheduled = {
        event.event_id: event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    started = [
        event.activity_task_started_event_attributes
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    (create,) = [s for s in started if scheduled[s.scheduled_event_id] == "create_process"]
    assert create.identity.startswith(first.identity_prefix) and create.attempt == 1, (
        "the call in flight at SIGTERM finished, first time, on the first worker"
    )
    last_task = [
        event
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ][-1]
    assert second is not None
    assert last_task.workflow_task_completed_event_attributes.identity.startswith(
        second.identity_prefix
    ), "the decision was taken on the other worker"
