"""Benchmark: two worker processes against a tenant-limited sandbox, with and without the
server-side limit on the Unico queue. `make bench` runs it (see bench/__init__.py).

Each run: a real-time dev server, the sandbox limiting the tenant to 10 requests/s (burst
10), two `python -m worker` processes, ONBOARDINGS onboardings of a CPF that Unico approves
at once (one process-API call each), started together. "Without" sets the fleet's rate so
high that the server never holds a call back: every worker sends as fast as it polls.
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

NAME = "fleet_rate_limit"
ONBOARDINGS = 60
TENANT = ["--tenant-rate-limit", "10", "--tenant-rate-burst", "10"]
UNLIMITED = "100000"
# (label, the fleet's UNICO_REQUESTS_PER_SECOND, task queue partitions on the server)
RUNS = [
    ("server limit 5/s, 4 partitions (server default)", "5", 4),
    ("server limit 5/s, 1 partition (deploy/temporal/dynamicconfig.yaml)", "5", 1),
    ("no server limit", UNLIMITED, 4),
]


async def one_run(state: Path, label: str, rate: str, partitions: int) -> dict[str, Any]:
    options = {
        "parts": ("temporal", "sandbox"),
        "async_delay_seconds": 1.0,
        "webhooks": False,
        "sandbox_args": tuple(TENANT),
        "temporal_args": tuple(queue_partitions(partitions)),
        "settings": {"UNICO_REQUESTS_PER_SECOND": rate},
    }
    async with bench_stack(state, **options) as stack, workers(stack, 2):
        queue = stack.settings.task_queue
        started = time.monotonic()
        handles = await asyncio.gather(
            *(
                start_onboarding(stack.client, approved_at_once(stack), queue)
                for _ in range(ONBOARDINGS)
            )
        )
        results = await asyncio.gather(*(h.result() for h in handles))
        elapsed = time.monotonic() - started
        seen = stack.sandbox.rate_limit()
    arrivals = seen["arrivals"]
    return {
        "run": label,
        "onboardings": ONBOARDINGS,
        "approved": sum(r.outcome == "approved" for r in results),
        "seconds_to_all_decided": round(elapsed, 2),
        "process_api_calls": len(arrivals),
        "refused_429": seen["refused"],
        "max_calls_in_any_second": max_in_any_window(arrivals),
        "mean_calls_per_second": round(len(arrivals) / (max(arrivals) - min(arrivals)), 2),
    }


async def run(work: Path) -> BenchResult:
    """The target: with the server's limit, Unico refuses nothing and every onboarding ends."""
    rows = []
    for number, (label, rate, partitions) in enumerate(RUNS):
        row = await one_run(work / str(number), label, rate, partitions)
        rows.append({**row, "server_limited": rate != UNLIMITED})
    limited = [row for row in rows if row["server_limited"]]
    met = all(row["refused_429"] == 0 and row["approved"] == ONBOARDINGS for row in limited)
    lines = [
        f"{ONBOARDINGS} onboardings, 2 workers, tenant limited to 10/s (burst 10):",
        f"  {'run':<68} {'s':>6} {'calls':>5} {'429':>4} {'max/s':>5}",
        *(
            f"  {row['run']:<68} {row['seconds_to_all_decided']:>6} "
            f"{row['process_api_calls']:>5} {row['refused_429']:>4} "
            f"{row['max_calls_in_any_second']:>5}"
            for row in rows
        ),
        "target: no 429 and every onboarding approved whenever the server limits the queue",
    ]
    return BenchResult(NAME, {"runs": rows}, lines, target_met=met)
