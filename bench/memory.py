"""Memory with 5,000 workflows waiting on timers at once: the worker's RSS and the server's.

Each is a bare sleeper (bench/bare.py): one activity, then a one-hour timer, which is
how an onboarding waits for Unico. Bare rather than full onboardings: 5,000 creates with
a selfie each would spend the time budget on the sandbox, and what is measured here is
what waiting costs, which the onboarding's timer shares. The worker keeps at most its
workflow cache (Temporal's default, 1,000) in memory; the rest live only in the server.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from temporalio.client import WorkflowHandle

from bench.bare import TASK_QUEUE as BARE_QUEUE
from bench.bare import start_bare_worker
from bench.procfs import peak_rss_mib, rss_mib
from bench.result import BenchResult
from bench.stack import bench_stack
from devstack.history import events_of, of_kind

NAME = "memory"
DEFAULT = False  # about 5 minutes on 2 cores: `make bench-memory`
WAITING = 5_000
SLEEP_SECONDS = 3600.0
START_CONCURRENCY = 50
SETTLE_SECONDS = 240  # bound on waiting for every sleeper to reach its timer


async def run(work: Path) -> BenchResult:
    # As `make run` serves it: the server on a SQLite file, with its Web UI.
    options = {"async_delay_seconds": 1.0, "database": True, "ui": True}
    async with bench_stack(work / "state", **options) as stack:
        worker, server = start_bare_worker(stack).pid, stack.pid("temporal")
        before = {"worker": rss_mib(worker), "server": rss_mib(server)}
        began = time.monotonic()
        handles = await _start_all(stack.client)
        started = time.monotonic() - began
        await _until_waiting(handles[-20:])  # the last ones started are the last served
        settled = time.monotonic() - began
        after = {"worker": rss_mib(worker), "server": rss_mib(server)}
        peak = {"worker": peak_rss_mib(worker), "server": peak_rss_mib(server)}
    figures = {
        "waiting": WAITING,
        "start_seconds": round(started, 1),
        "all_waiting_seconds": round(settled, 1),
        "rss_before_mib": _rounded(before),
        "rss_waiting_mib": _rounded(after),
        "peak_rss_mib": _rounded(peak),
    }
    lines = [
        f"{WAITING} workflows waiting on a {SLEEP_SECONDS:g} s timer "
        f"(started in {started:.1f} s, all waiting after {settled:.1f} s)",
        *(
            f"  {who:<6} RSS {before[who]:7.1f} MiB idle -> {after[who]:7.1f} MiB waiting "
            f"(peak {peak[who]:.1f}; {1024 * (after[who] - before[who]) / WAITING:.1f} KiB "
            "per waiting workflow)"
            for who in ("worker", "server")
        ),
    ]
    return BenchResult(NAME, figures, lines)


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 1) for key, value in values.items()}


async def _start_all(client: object) -> list[WorkflowHandle[object, object]]:
    from temporalio.client import Client

    assert isinstance(client, Client)
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def start(index: int) -> WorkflowHandle[object, object]:
        async with gate:
            return await client.start_workflow(
                "BareSleeper",
                SLEEP_SECONDS,
                id=f"sleeper-{index}-{uuid.uuid4().hex[:6]}",
                task_queue=BARE_QUEUE,
            )

    return await asyncio.gather(*(start(i) for i in range(WAITING)))


async def _until_waiting(handles: list[WorkflowHandle[object, object]]) -> None:
    async with asyncio.timeout(SETTLE_SECONDS):
        for handle in handles:
            while not await _timer_started(handle):
                await asyncio.sleep(1)


async def _timer_started(handle: WorkflowHandle[object, object]) -> bool:
    return bool(of_kind(await events_of(handle), "TIMER_STARTED"))
