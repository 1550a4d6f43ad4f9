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
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import WorkflowHandle

from activities.unico import UnicoSettings
from bench.report import max_in_any_window
from devstack.demo import SAMPLE_SELFIE
from devstack.history import activity_names, of_kind
from devstack.stack import Child, DevStack
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.onboardings import start_onboarding

pytestmark = pytest.mark.e2e

APPROVED_AT_ONCE = "12345678909"  # create answers status 3: one process-API call each
TENANT_RATE = 10.0  # Unico's published default, enforced by the sandbox
TENANT_BURST = 10  # the sandbox's stated burst: one second's worth
FLEET_RATE = UnicoSettings().requests_per_second  # the default: half the tenant's limit
ONBOARDINGS = 30
ANSWER_DELAY_SECONDS = 8


def request(stack: DevStack, cpf: str = APPROVED_AT_ONCE) -> OnboardingRequest:
    return OnboardingRequest.model_validate(
        {
            "request_id": uuid.uuid4().hex,
            "subject": {"code": cpf, "name": "Maria Silva"},
            "selfie_ref": stack.selfies.put(SAMPLE_SELFIE.read_bytes()),
            "options": {"poll_initial_seconds": 1, "poll_max_seconds": 2},
        }
    )


def fleet(state: Path, *sandbox_args: str) -> DevStack:
    """A real-time server and the sandbox; the tests start the workers, as a deployment."""
    return DevStack.on_free_ports(
        state,
        parts=("temporal", "sandbox"),
        async_delay_seconds=1.0,
        webhooks=False,
        sandbox_args=sandbox_args,
        settings={
            "UNICO_REQUESTS_PER_SECOND": str(FLEET_RATE),
            "GRACEFUL_SHUTDOWN_SECONDS": "30",
        },
    )


async def test_two_workers_keep_the_tenant_under_its_limit(state: Path) -> None:
    limit = ["--tenant-rate-limit", str(TENANT_RATE), "--tenant-rate-burst", str(TENANT_BURST)]
    async with fleet(state / "rate", *limit) as stack:
        workers = [stack.spawn_worker(f"rate-worker-{i}", probes=True) for i in range(2)]
        try:
            for worker in workers:
                await asyncio.to_thread(worker.wait_ready)
            queue = stack.settings.task_queue
            handles = await asyncio.gather(
                *(start_onboarding(stack.client, request(stack), queue) for _ in range(ONBOARDINGS))
            )
            results = await asyncio.gather(*(handle.result() for handle in handles))
            seen = stack.sandbox.rate_limit()
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
    state: Path,
) -> None:
    async with fleet(state / "drain") as stack:
        sandbox = stack.sandbox
        # A slow answer: the process is created at once, its answer comes this much later;
        # long enough for a second worker to start under load while the first one's call waits.
        sandbox.inject({"endpoint": "create", "delay_seconds": ANSWER_DELAY_SECONDS})
        first = stack.spawn_worker("drain-worker-first", probes=True)
        second: Child | None = None
        try:
            await asyncio.to_thread(first.wait_ready)
            queue = stack.settings.task_queue
            handle = await start_onboarding(stack.client, request(stack), queue)
            while sandbox.stats()["processes_created"] == 0:  # the create is in flight
                await asyncio.sleep(0.05)
            second = stack.spawn_worker("drain-worker-second", probes=True)
            await asyncio.to_thread(second.wait_ready)
            assert first.probe("readyz") == 200
            assert await call_in_flight(handle, "open_process"), "SIGTERM must come mid-call"
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
    scheduled = activity_names(history.events)
    started = [
        event.activity_task_started_event_attributes
        for event in of_kind(history.events, "ACTIVITY_TASK_STARTED")
    ]
    (create,) = [s for s in started if scheduled[s.scheduled_event_id] == "open_process"]
    assert create.identity.startswith(first.identity_prefix) and create.attempt == 1, (
        "the call in flight at SIGTERM finished, first time, on the first worker"
    )
    last_task = of_kind(history.events, "WORKFLOW_TASK_COMPLETED")[-1]
    assert second is not None
    assert last_task.workflow_task_completed_event_attributes.identity.startswith(
        second.identity_prefix
    ), "the decision was taken on the other worker"
