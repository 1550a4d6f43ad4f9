"""The floor: a workflow with the least commands an onboarding needs, and the least code.

One create on a queue of its own, with the server-side budget the fleet's Unico calls have
(`max_task_queue_activities_per_second`, from the same setting as ours: the job needs the
fleet-wide limit, and the server's limiter has a cost of its own); an asynchronous one then waits
on a timer that a signal ends (as Unico's webhook ends ours), and reads once. The signal
comes the sandbox's delay after the create answered, as Unico's webhook would: the create's
activity sends it (`Announcer`), with no lookup (the floor knows its workflow id). With `calls`,
the create and the read are the job's own HTTP calls to the same sandbox (a token fetched
once per worker, then a bare httpx POST and GET: no checks, classification, telemetry or
encryption), so what ours adds over it is what our code costs; without, the bodies return
at once and what remains is Temporal's own cost. Same server, same worker settings.

`python -m bench.bare` runs a worker for it (and for the memory check's sleeper) with the
environment `onboarding dev` gives every child.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import signal
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():  # the worker's, never the workflow's
    import httpx

    from activities import load
    from activities.unico import UnicoSettings
    from bench import direct
    from devstack.demo import SAMPLE_SELFIE
    from onboarding.runtime.entry import leave
    from onboarding.runtime.settings import load_settings
    from onboarding.temporal.client import connect

if TYPE_CHECKING:
    from devstack.stack import Child, DevStack

TASK_QUEUE = "bench-bare"
CALLS_QUEUE = "bench-bare-unico"  # the create and the read, as ours run on `<queue>-unico`
SIGNAL = "unico_webhook"
ACTIVITY_TIMEOUT = timedelta(seconds=60)


@activity.defn(name="bare_step")
async def bare_step(step: str) -> str:
    return step


class Announcer:
    """Unico's webhook for the floor: the signal, `after` seconds from the create's answer.

    Timed from the create, not from the start: under load a create waits seconds for its
    turn, and a signal timed from the start came before it had answered, sparing the floor
    its wait (a timer and a workflow task) that ours always pays.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._pending: set[asyncio.Task[None]] = set()

    def announce(self, after: float) -> None:
        workflow_id = activity.info().workflow_id
        if workflow_id is None:  # an activity started on its own: no workflow to wake
            return
        task = asyncio.create_task(self._signal(workflow_id, after))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _signal(self, workflow_id: str, after: float) -> None:
        await asyncio.sleep(after)
        with contextlib.suppress(RPCError):  # it ended on its timer: nothing to wake
            await self._client.get_workflow_handle(workflow_id).signal(SIGNAL)


class BareCalls:
    """The job's two Unico calls and nothing else; one token for the worker's life."""

    def __init__(
        self, settings: UnicoSettings, http: httpx.AsyncClient, webhook: Announcer
    ) -> None:
        self._settings = settings
        self._http = http
        self._webhook = webhook
        self._image_b64 = base64.b64encode(SAMPLE_SELFIE.read_bytes()).decode("ascii")
        self._headers: dict[str, str] | None = None
        self._lock = asyncio.Lock()

    async def _token(self) -> dict[str, str]:
        async with self._lock:
            if self._headers is None:
                account = direct.service_account(self._settings)
                self._headers = await direct.get_token(self._http, self._settings, account, 0)
            return self._headers

    @activity.defn(name="bare_create")
    async def create(self, cpf: str, final_after: float | None) -> dict[str, Any]:
        headers = await self._token()
        process = await direct.create_process(
            self._http, self._settings, headers, cpf, self._image_b64
        )
        if final_after is not None:
            self._webhook.announce(final_after)
        return {"id": process["id"], "status": process["status"]}

    @activity.defn(name="bare_noop_create")
    async def noop_create(self, final_after: float | None) -> dict[str, Any]:
        if final_after is not None:
            self._webhook.announce(final_after)
        return {"id": "noop", "status": 1}

    @activity.defn(name="bare_read")
    async def read(self, process_id: str) -> dict[str, Any]:
        process = await direct.read_process(
            self._http, self._settings, await self._token(), process_id
        )
        return {"id": process["id"], "status": process["status"]}


@workflow.defn(name="BareOnboarding")
class BareOnboarding:
    def __init__(self) -> None:
        self.woken = False

    @workflow.signal(name=SIGNAL)
    def unico_webhook(self) -> None:
        self.woken = True

    @workflow.run
    async def run(self, cpf: str, asynchronous: bool, delay_seconds: float, calls: bool) -> str:
        on_calls_queue: dict[str, Any] = {
            "task_queue": CALLS_QUEUE,
            "start_to_close_timeout": ACTIVITY_TIMEOUT,
        }
        final_after = delay_seconds if asynchronous else None  # then Unico's webhook comes
        if calls:
            process = await workflow.execute_activity(
                "bare_create", args=[cpf, final_after], **on_calls_queue
            )
        else:
            process = await workflow.execute_activity(
                "bare_noop_create", final_after, **on_calls_queue
            )
        if asynchronous:
            # A timer the signal cuts short; a late signal is as good as the timer.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.woken, timeout=timedelta(seconds=delay_seconds * 2)
                )
            if calls:
                await workflow.execute_activity("bare_read", process["id"], **on_calls_queue)
            else:
                await workflow.execute_activity(bare_step, "read", **on_calls_queue)
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
    unico = load(UnicoSettings)
    async with httpx.AsyncClient(timeout=30) as http:
        calls = BareCalls(unico, http, Announcer(client))
        await _serve(client, calls, unico.requests_per_second, drain, stop)


async def _serve(
    client: Client, calls: BareCalls, budget: float, drain: timedelta, stop: asyncio.Event
) -> None:
    async with (
        Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[BareOnboarding, BareSleeper],
            activities=[bare_step],
            graceful_shutdown_timeout=drain,
        ),
        Worker(
            client,
            task_queue=CALLS_QUEUE,
            activities=[bare_step, calls.create, calls.noop_create, calls.read],
            max_task_queue_activities_per_second=budget,
            graceful_shutdown_timeout=drain,
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
