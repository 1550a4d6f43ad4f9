"""The engine's floor: a workflow with the least commands an onboarding needs, doing nothing.

One create on a queue of its own (as the Unico calls have); an asynchronous one then waits
on a timer that a signal ends (as Unico's webhook ends ours), and reads once. The activity
bodies return at once, so what remains is Temporal's own cost (server round trips,
history, worker bookkeeping) on the same server and worker settings.

`python -m bench.bare` runs a worker for it (and for the memory check's sleeper) with the
environment `onboarding dev` gives every child.
"""

from __future__ import annotations

import asyncio
import contextlib
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
CALLS_QUEUE = "bench-bare-unico"  # the create and the read, as ours run on `<queue>-unico`
SIGNAL = "unico_webhook"
ACTIVITY_TIMEOUT = timedelta(seconds=60)


@activity.defn(name="bare_step")
async def bare_step(step: str) -> str:
    return step


@workflow.defn(name="BareOnboarding")
class BareOnboarding:
    def __init__(self) -> None:
        self.woken = False

    @workflow.signal(name=SIGNAL)
    def unico_webhook(self) -> None:
        self.woken = True

    @workflow.run
    async def run(self, asynchronous: bool, delay_seconds: float) -> str:
        await workflow.execute_activity(
            bare_step, "create", task_queue=CALLS_QUEUE, start_to_close_timeout=ACTIVITY_TIMEOUT
        )
        if asynchronous:
            # A timer the signal cuts short; a late signal is as good as the timer.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.woken, timeout=timedelta(seconds=delay_seconds * 2)
                )
            await workflow.execute_activity(
                bare_step, "read", task_queue=CALLS_QUEUE, start_to_close_timeout=ACTIVITY_TIMEOUT
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
    drain = timedelta(seconds=settings.graceful_shutdown_seconds)
    async with (
        Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[BareOnboarding, BareSleeper],
            activities=[bare_step],
            graceful_shutdown_timeout=drain,
        ),
        Worker(
            client, task_queue=CALLS_QUEUE, activities=[bare_step], graceful_shutdown_timeout=drain
        ),
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
