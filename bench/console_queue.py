"""Benchmark: the reviewers' console's queue with 2,000 waiting reviews.

One stack (the server, the sandbox, a worker, the console), REVIEWS onboardings of the
score-28 CPF with review on, started together; once the visibility store lists them all
as waiting, a reviewer logged in at the console asks for `/reviews` ASKED times, one after
another. The figure is the server's time per page (httpx's elapsed: request sent to
response read), which reads every waiting review from visibility and memo (no query of
any workflow), sorts them and renders the first page. Asked for by name (it takes a few
minutes): `python -m bench console_queue`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from bench.result import BenchResult, spread
from bench.stack import bench_stack
from devstack.console_client import REVIEWER, ConsoleUser
from devstack.demo import SAMPLE_SELFIE
from devstack.stack import DevStack
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.onboardings import start_onboarding
from onboarding_client.reviews import WAITING_QUERY

NAME = "console_queue"
DEFAULT = False
REVIEWS = 2000
ASKED = 30
TARGET_P95_SECONDS = 2.0
STARTING_AT_ONCE = 50


async def _start_all(stack: DevStack) -> None:
    gate = asyncio.Semaphore(STARTING_AT_ONCE)
    image = SAMPLE_SELFIE.read_bytes()

    async def one(n: int) -> None:
        async with gate:
            request = OnboardingRequest.model_validate(
                {
                    "request_id": f"queue-{n:05d}-{uuid.uuid4().hex[:6]}",
                    "subject": {"code": "00000000353", "name": "Pessoa Fila"},
                    "selfie_ref": stack.selfies.put(image),
                    "options": {"review": {"enabled": True}, "poll_initial_seconds": 1},
                }
            )
            await start_onboarding(stack.client, request, stack.settings.task_queue)

    await asyncio.gather(*(one(n) for n in range(REVIEWS)))


async def _until_all_wait(stack: DevStack) -> float:
    began = time.monotonic()
    while (await stack.client.count_workflows(WAITING_QUERY)).count < REVIEWS:
        await asyncio.sleep(2)
    return time.monotonic() - began


async def run(work: Path) -> BenchResult:
    settings = {"UNICO_REQUESTS_PER_SECOND": "1000"}
    async with bench_stack(
        work,
        async_delay_seconds=0.5,
        parts=("temporal", "sandbox", "worker", "console"),
        ui=False,
        settings=settings,
    ) as stack:
        began = time.monotonic()
        await _start_all(stack)
        waited = await _until_all_wait(stack)
        filled = time.monotonic() - began
        seconds = []
        async with ConsoleUser(stack.console_url) as reviewer:
            await reviewer.log_in(*REVIEWER)
            for _ in range(ASKED):
                page = await reviewer.get("/reviews")
                assert page.status_code == 200 and f"of {REVIEWS} waiting" in page.text
                seconds.append(page.elapsed.total_seconds())
    queue = spread(seconds)
    figures = {"reviews": REVIEWS, "asked": ASKED, "queue_seconds": queue}
    figures["filled_seconds"] = round(filled, 1)
    met = queue["p95"] <= TARGET_P95_SECONDS
    lines = [
        f"{REVIEWS} reviews waiting after {filled:.0f} s (the last {waited:.0f} s for the "
        "visibility store to list them)",
        f"/reviews, {ASKED} times: median {queue['median']:.3f} s, p95 {queue['p95']:.3f} s "
        f"(target p95 <= {TARGET_P95_SECONDS:g} s)",
    ]
    return BenchResult(NAME, figures, lines, met)
