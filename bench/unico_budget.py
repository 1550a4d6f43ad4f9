"""Benchmark: how much of Unico's budget a fleet uses, with one worker and with two.

Unico allows a tenant about 10 process-API requests a second; at a peak the fleet's
throughput is that budget divided by the calls per onboarding. Each run: a real-time dev
server (the `-unico` queue on one partition, as deploy/temporal/dynamicconfig.yaml sets it),
the sandbox holding the tenant to TENANT_RATE/s (burst as much), the fleet told that limit
(UNICO_REQUESTS_PER_SECOND) and each worker its share (WORKER_REPLICAS), WORKERS
`python -m worker` processes, and a backlog of BACKLOG onboardings of a CPF Unico approves
at once (one create each), started together. From the sandbox's own arrival times (its
clock is this host's monotonic clock, as ours is): the 429s, and the rate the tenant saw
while the backlog waited, from the moment the last of it was started to the last call
(the starts themselves take seconds, which a client's pace, not the fleet's, decides).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench.report import max_in_any_window
from bench.result import BenchResult
from bench.stack import approved_at_once, bench_stack, queue_partitions, workers
from onboarding_client.onboardings import start_onboarding

NAME = "unico_budget"
TENANT_RATE = 10
BACKLOG = 300
FLEET_RATE = TENANT_RATE  # each replica paced at its share (docs/operations.md)
TARGET_USE = 0.95
WARM_UP = 20
WARM_UP_REST_SECONDS = 5.0
WORKERS = (1, 2)


async def one_run(state: Path, worker_count: int) -> dict[str, Any]:
    tenant = ("--tenant-rate-limit", str(TENANT_RATE), "--tenant-rate-burst", str(TENANT_RATE))
    options = {
        "parts": ("temporal", "sandbox"),
        "async_delay_seconds": 1.0,
        "webhooks": False,
        "sandbox_args": tenant,
        "temporal_args": tuple(queue_partitions(1)),
        # Each worker keeps to its share of the fleet's limit (docs/operations.md).
        "settings": {
            "UNICO_REQUESTS_PER_SECOND": str(FLEET_RATE),
            "WORKER_REPLICAS": str(worker_count),
        },
    }
    async with bench_stack(state, **options) as stack, workers(stack, worker_count):
        queue = stack.settings.task_queue
        # A fleet in service: the server has set the queue's limit (a fresh task queue
        # dispatches at will until it has), and the tenant's bucket is full again.
        warm = (
            start_onboarding(stack.client, approved_at_once(stack), queue) for _ in range(WARM_UP)
        )
        await asyncio.gather(*(handle.result() for handle in await asyncio.gather(*warm)))
        await asyncio.sleep(WARM_UP_REST_SECONDS)
        before = stack.sandbox.rate_limit()
        began = time.monotonic()
        handles = await asyncio.gather(
            *(
                start_onboarding(stack.client, approved_at_once(stack), queue)
                for _ in range(BACKLOG)
            )
        )
        queued = time.monotonic()
        results = await asyncio.gather(*(handle.result() for handle in handles))
        elapsed = time.monotonic() - began
        seen = stack.sandbox.rate_limit()
    arrivals = sorted(seen["arrivals"][len(before["arrivals"]) :])
    rate = backlog_rate(arrivals, queued)
    return {
        "workers": worker_count,
        "onboardings": BACKLOG,
        "approved": sum(r.outcome == "approved" for r in results),
        "seconds_to_all_decided": round(elapsed, 1),
        "process_api_calls": len(arrivals),
        "refused_429": seen["refused"] - before["refused"],
        "rate_per_second": round(rate, 2),
        "use_of_limit": round(rate / TENANT_RATE, 3),
        "max_calls_in_any_second": max_in_any_window(arrivals),
    }


def backlog_rate(arrivals: list[float], queued: float) -> float:
    """Calls per second that reached the tenant from `queued` (the last start) to the last
    call: the rate while the backlog waited (module doc)."""
    waited = [t for t in arrivals if t >= queued]
    if len(waited) < 2 or waited[-1] <= queued:
        # The fleet kept up with the starts: no backlog ever waited, so there is no rate
        # of it to measure, only the client's pace.
        raise RuntimeError(
            f"{len(waited)} call(s) came after the last start: the backlog never waited; "
            "raise BACKLOG"
        )
    return len(waited) / (waited[-1] - queued)


async def run(work: Path) -> BenchResult:
    rows = [await one_run(work / f"workers-{n}", n) for n in WORKERS]
    met = all(
        row["refused_429"] == 0 and row["use_of_limit"] >= TARGET_USE and row["approved"] == BACKLOG
        for row in rows
    )
    lines = [
        f"a backlog of {BACKLOG} onboardings, the tenant held to {TENANT_RATE}/s (burst "
        f"{TENANT_RATE}), the fleet told {FLEET_RATE}/s:",
        f"  {'workers':>7} {'s':>6} {'calls':>6} {'429':>4} {'rate/s':>7} {'use':>6} {'max/s':>6}",
        *(
            f"  {row['workers']:>7} {row['seconds_to_all_decided']:>6} "
            f"{row['process_api_calls']:>6} {row['refused_429']:>4} {row['rate_per_second']:>7} "
            f"{row['use_of_limit']:>6.1%} {row['max_calls_in_any_second']:>6}"
            for row in rows
        ),
        f"target: use >= {TARGET_USE:.0%} of the limit, 0 answered 429, every onboarding approved",
    ]
    return BenchResult(NAME, {"runs": rows}, lines, target_met=met)
