"""With Unico's webhook on, polling is its safety net: the first read waits for the webhook
(the deployment's wait, or the request's), which ends the wait when it comes; a lost one
still ends in a read, once the wait is out."""

from __future__ import annotations

import asyncio

from temporalio.api.history.v1 import HistoryEvent
from temporalio.testing import WorkflowEnvironment

from devstack.history import counts, events_of, of_kind
from devstack.watch import until_stage
from onboarding_client.contract.names import WEBHOOK_SIGNAL
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import start_onboarding
from tests.workflow.conftest import request
from tests.workflow.stubs import (
    APPROVED,
    CREATE_PROCESS,
    GET_PROCESS,
    PENDING,
    Script,
    StubbedWorker,
)

WAIT = 120.0


def naps(events: list[HistoryEvent]) -> list[float]:
    """The timers' durations, in seconds, in the order started."""
    return [
        event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta().total_seconds()
        for event in of_kind(events, "TIMER_STARTED")
    ]


async def test_the_webhook_ends_the_deployments_wait_one_read_no_poll(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [APPROVED]}, webhook_wait=WAIT)
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(env.client, request(), worker.queue)
        await until_stage(handle, Stage.WAITING)
        await handle.signal(WEBHOOK_SIGNAL, {"processId": "p-1"})
        result = await asyncio.wait_for(handle.result(), 30)
    events = await events_of(handle)
    assert result.outcome is Outcome.APPROVED
    assert naps(events) == [WAIT]  # one wait, for the webhook; the request polls at 1 s
    assert len(worker.script.called(GET_PROCESS)) == 1
    assert counts(events)["TIMER_FIRED"] == 0


async def test_a_lost_webhook_still_ends_in_a_read_once_the_wait_is_out(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script(
        {CREATE_PROCESS: [PENDING], GET_PROCESS: [PENDING, APPROVED]}, webhook_wait=WAIT
    )
    handle = await start_onboarding(env.client, request(), worker.queue)
    result = await handle.result()  # time skipped: no webhook ever comes
    assert result.outcome is Outcome.APPROVED
    # The net's read at the wait, then the request's polling, backed off from there.
    assert naps(await events_of(handle)) == [WAIT, 1.0]
    assert len(worker.script.called(GET_PROCESS)) == 2


async def test_the_request_may_choose_its_own_wait_or_none(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    for chosen, first in ((30.0, 30.0), (0.0, 1.0)):
        worker.script = Script(
            {CREATE_PROCESS: [PENDING], GET_PROCESS: [APPROVED]}, webhook_wait=WAIT
        )
        handle = await start_onboarding(
            env.client, request(webhook_wait_seconds=chosen), worker.queue
        )
        await handle.result()
        assert naps(await events_of(handle)) == [first]


async def test_without_the_webhook_it_polls_as_the_request_says(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script({CREATE_PROCESS: [PENDING], GET_PROCESS: [PENDING, APPROVED]})
    handle = await start_onboarding(env.client, request(), worker.queue)
    await handle.result()
    assert naps(await events_of(handle)) == [1.0, 1.0]
