"""How long after Unico finishes does an onboarding end, with and without the webhook?

Every onboarding polls only every 60 s, so the webhook alone can end it early. The latency
of one onboarding is the workflow's close time minus the moment the sandbox turned its
process final: with webhooks, the `final_at` the sandbox reports for its delivery; without,
the `create_process` completion in the history plus the sandbox's async delay (the same
moment, read from the other side, to within a few milliseconds).

Rounds: one onboarding at a time; all async scenarios twice over, concurrently; and with
webhooks off, a few concurrently, which wait for their 60 s poll.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from bench.result import BenchResult, spread
from bench.stack import bench_stack
from contracts.activity import declared
from contracts.unico import open_process
from devstack.demo import SAMPLE_SELFIE
from devstack.history import activity_names, events_of, of_kind
from devstack.scenarios import SCENARIOS
from devstack.stack import DevStack
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.onboardings import start_onboarding

NAME = "webhook_latency"
SANDBOX_DELAY_SECONDS = 2.0
POLL_SECONDS = 60
TARGET_SECONDS = 1.0
ASYNC = [s for s in SCENARIOS if s.cpf not in {"12345678909", "00000000191", "00000000949"}]
# A status-5 process is never announced; the retried scenarios would measure a second process.
MEASURED = [s for s in ASYNC if s.cpf not in {"00000000787", "00000000604", "00000000868"}]

Handle = WorkflowHandle[Any, OnboardingResult]


async def run(work: Path) -> BenchResult:
    async with bench_stack(
        work,
        async_delay_seconds=SANDBOX_DELAY_SECONDS,
        # The concurrent round measures the webhook path, not the fleet's Unico budget
        # (5 calls/s by default would queue its reads): fleet_rate_limit measures that.
        settings={"UNICO_REQUESTS_PER_SECOND": "1000"},
    ) as stack:
        sequential = []
        for scenario in MEASURED:
            sequential += await _round(stack, [scenario.cpf], webhooks=True)
        concurrent = await _round(stack, [s.cpf for s in MEASURED] * 2, webhooks=True)
        polling = await _round(stack, [s.cpf for s in MEASURED[:3]], webhooks=False)
    rounds = {
        "webhook_one_at_a_time": {"n": len(sequential), **spread(sequential)},
        "webhook_concurrent": {"n": len(concurrent), **spread(concurrent)},
        "polling_only": {"n": len(polling), **spread(polling)},
    }
    figures = {
        "sandbox_delay_seconds": SANDBOX_DELAY_SECONDS,
        "poll_interval_seconds": POLL_SECONDS,
        **rounds,
    }
    worst = max(sequential + concurrent)
    lines = [
        f"poll every {POLL_SECONDS} s; Unico final {SANDBOX_DELAY_SECONDS:g} s after create",
        "seconds from 'Unico final' to 'onboarding closed':",
        *(_line(name, figure) for name, figure in rounds.items()),
        f"target: every webhook onboarding within {TARGET_SECONDS:g} s; worst {worst:.3f} s",
    ]
    return BenchResult(NAME, figures, lines, target_met=worst <= TARGET_SECONDS)


def _line(name: str, figure: dict[str, float]) -> str:
    values = "  ".join(f"{key} {figure[key]:7.3f}" for key in ("min", "median", "p95", "max"))
    return f"  {name:<22} n={int(figure['n']):<3} {values}"


async def _round(stack: DevStack, cpfs: list[str], *, webhooks: bool) -> list[float]:
    stack.sandbox.webhooks(enabled=webhooks)
    handles = await asyncio.gather(*(_start(stack, cpf) for cpf in cpfs))
    async with asyncio.timeout(POLL_SECONDS * 3):
        results = await asyncio.gather(*(handle.result() for handle in handles))
    finals = _final_moments(stack) if webhooks else {}
    latencies = []
    for handle, result in zip(handles, results, strict=True):
        closed = (await handle.describe()).close_time
        assert closed is not None and result.process_id is not None
        final_at = finals.get(result.process_id) or await _final_from_history(handle)
        latencies.append(closed.timestamp() - final_at)
    return latencies


async def _start(stack: DevStack, cpf: str) -> Handle:
    request = OnboardingRequest.model_validate(
        {
            "request_id": f"bench-{uuid.uuid4().hex[:12]}",
            "subject": {"code": cpf, "name": "Pessoa Bench"},
            "selfie_ref": stack.selfies.put(SAMPLE_SELFIE.read_bytes()),
            # Polls every 60 s, whatever the deployment's wait for the webhook: the webhook alone
            # ends an onboarding early.
            "options": {
                "poll_initial_seconds": POLL_SECONDS,
                "poll_max_seconds": POLL_SECONDS,
                "webhook_wait_seconds": 0,
            },
        }
    )
    return await start_onboarding(stack.client, request, stack.settings.task_queue)


def _final_moments(stack: DevStack) -> dict[str, float]:
    report = stack.sandbox.webhooks()
    return {d["process_id"]: d["final_at"] for d in report["deliveries"] if d["copy"] == 0}


async def _final_from_history(handle: Handle) -> float:
    events = await events_of(handle)
    names = activity_names(events)
    for event in of_kind(events, "ACTIVITY_TASK_COMPLETED"):
        scheduled = event.activity_task_completed_event_attributes.scheduled_event_id
        if names.get(scheduled) == declared(open_process).name:
            return event.event_time.ToNanoseconds() / 1e9 + SANDBOX_DELAY_SECONDS
    raise LookupError(f"{handle.id}: no completed create")
