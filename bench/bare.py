"""The engine limit: a workflow with the onboarding's activities and timer, doing nothing.

Same shape as an onboarding that Unico answers asynchronously: inspect the selfie, get a
token, create, one timer as long as the sandbox's delay, read, release the selfie. A
synchronous one skips the timer and the read. The activity bodies return at once, so what
remains is Temporal's own cost (server round trips, history, worker bookkeeping) on the
same server and worker settings.

`python -m bench.bare` runs a worker for it (and for the memory check's sleeper) with the
environment `onboarding dev` gives every child.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import activity, workflow
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():  # the worker's, never the workflow's
    from onboarding.runtime.entry import leave
    from onboarding.runtime.settings import load_settings
    from onboarding.temporal.client import connect

if TYPE_CHECKING:
    from onboarding.dev.stack import Child, DevStack

TASK_QUEUE = "bench-bare"
ACTIVITY_TIMEOUT = timedelta(seconds=60)


@activity.defn(name="bare_step")
async def bare_step(step: str) -> str:
    return step


@workflow.defn(name="BareOnboarding")
class BareOnboarding:
    @workflow.run
    async def run(self, asynchronous: bool, delay_seconds: float) -> str:
        for step in ("inspect_selfie", "acquire_token", "create_process"):
            await workflow.execute_activity(
                bare_step, step, start_to_close_timeout=ACTIVITY_TIMEOUT
            )
        if asynchronous:
            await workflow.sleep(delay_seconds)
            await workflow.execute_activity(
                bare_step, "get_process", start_to_close_timeout=ACTIVITY_TIMEOUT
            )
        await workflow.execute_activity(
            bare_step, "release_selfie", start_to_close_timeout=ACTIVITY_TIMEOUT
        )
        return "done"


@workflow.defn(name="BareSleeper")
class BareSleeper:
    """One activity, then a long timer: what a waiting onboarding costs the engine."""

    @workflow.run
    async def run(self, sleep_seconds: float) -> str:
        await workflow.execute_activity(
            bare_step, "create", start_to_close_timeout=ACTIVITY_TIMEOUT
        )
        await workflow.sleep(sleep_seconds)
        return "done"


async def serve() -> None:
    settings = load_settings()
    client = await connect(settings)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    # Worker defaults, as build_worker uses them: the comparison is of work, not settings.
    async with Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[BareOnboarding, BareSleeper],
        activities=[bare_step],
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_seconds),
    ):
        print(f"worker polling task queue {TASK_QUEUE!r}", flush=True)
        await stop.wait()


def start_bare_worker(stack: DevStack) -> Child:
    """This module's worker, as one more child of the stack."""
    worker = stack.spawn("bare", [sys.executable, "-m", "bench.bare"])
    worker.wait_ready()
    return worker


if __name__ == "__main__":
    asyncio.run(serve())
    leave(0)
