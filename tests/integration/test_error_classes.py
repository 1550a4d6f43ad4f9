"""Each error class on a real dev server (timers skipped) against the sandbox's fault rules:
the outcome, the calls Unico received (counted at the sandbox) and the retry delays (read
from the history's event timestamps, in the workflow's virtual time).

Every test runs its own worker, so that its token cache starts cold and the token requests
it causes are exact.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.selfies.local_store import SelfieStore
from devstack.history import activity_names, events_of, of_kind, stage_upserts
from onboarding_client.contract.names import RETRY_NOW_SIGNAL, STATUS_QUERY
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.contract.status import OnboardingStatus, Stage
from onboarding_client.onboardings import OnboardingHandle, start_onboarding
from tests.integration.onboard import delta, request
from tests.integration.workers import serving_workers
from tests.support import Sandbox

APPROVED_CPF = "12345678909"  # create answers status 3 at once
ASYNC_CPF = "00000000272"  # status 1, then GET answers status 3


@pytest.fixture(autouse=True)
def clean_sandbox(sandbox: Sandbox) -> Iterator[None]:
    sandbox.clear_faults()
    yield
    sandbox.clear_faults()


@dataclass
class Bench:
    """A worker of its own (a cold token cache, so token requests are exact), the sandbox,
    and the selfie store: what every test here drives."""

    client: Client
    queue: str
    sandbox: Sandbox
    selfies: SelfieStore

    async def start(self, cpf: str = APPROVED_CPF, **options: Any) -> OnboardingHandle:
        return await start_onboarding(
            self.client, request(self.selfies, cpf, **options), self.queue
        )

    async def onboard(
        self, *rules: dict[str, Any], cpf: str = APPROVED_CPF, **options: Any
    ) -> tuple[OnboardingHandle, OnboardingResult, dict[str, int]]:
        """Inject `rules`, run one onboarding: its handle, result, and the calls Unico got."""
        if rules:
            self.sandbox.inject(*rules)
        before = self.sandbox.stats()
        handle = await self.start(cpf, **options)
        result = await handle.result()
        return handle, result, delta(before, self.sandbox.stats())


@pytest_asyncio.fixture
async def bench(
    env: WorkflowEnvironment, environment: dict[str, str], sandbox: Sandbox, selfies: SelfieStore
) -> AsyncIterator[Bench]:
    queue = f"errors-{uuid.uuid4().hex[:8]}"
    async with serving_workers(env.client, environment, task_queue=queue) as own:
        yield Bench(env.client, own.settings.task_queue, sandbox, selfies)


@dataclass(frozen=True)
class Call:
    """One activity as the history shows it: scheduled once, started at its last attempt."""

    name: str
    scheduled: datetime
    started: datetime
    attempts: int
    failed: bool


async def activity_calls(handle: WorkflowHandle[Any, Any], name: str | None = None) -> list[Call]:
    events = await events_of(handle)
    names = activity_names(events)
    when = {event.event_id: event.event_time.ToDatetime(tzinfo=UTC) for event in events}
    started = {
        attrs.scheduled_event_id: (when[event.event_id], attrs.attempt)
        for event in of_kind(events, "ACTIVITY_TASK_STARTED")
        if (attrs := event.activity_task_started_event_attributes)
    }
    failed = {
        event.activity_task_failed_event_attributes.scheduled_event_id
        for event in of_kind(events, "ACTIVITY_TASK_FAILED")
    }
    calls = [
        Call(kind, when[event_id], *started[event_id], failed=event_id in failed)
        for event_id, kind in sorted(names.items())
    ]
    return [call for call in calls if name in (None, call.name)]


def gaps(calls: list[Call]) -> list[float]:
    """Seconds between one call's scheduling and the next's: the workflow's waits."""
    return [(b.scheduled - a.scheduled).total_seconds() for a, b in itertools.pairwise(calls)]


def assert_waits(measured: list[float], expected: list[float], slack: float = 5.0) -> None:
    assert len(measured) == len(expected), measured
    for got, want in zip(measured, expected, strict=True):
        assert want <= got < want + slack, (measured, expected)


def retried_for(call: Call) -> float:
    """Seconds from scheduling to the start of the last attempt: the activity's retry waits."""
    return (call.started - call.scheduled).total_seconds()


async def stage_history(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """Every OnboardingStage value the workflow set, in order."""
    return stage_upserts(await events_of(handle))


# --- retried by the activity: transient, rate_limited, and what nothing explains ------

ACTIVITY_RETRIES = [
    # (rule, outcome, create requests, processes created, retry waits in seconds)
    pytest.param(
        {"endpoint": "create", "status": 503, "code": 99999, "times": 2},
        Outcome.APPROVED, 3, 1, 1 + 2, id="transient: backoff 1 s, 2 s",
    ),
    pytest.param(
        {"endpoint": "create", "status": 429, "retry_after": 30, "times": 2},
        Outcome.APPROVED, 3, 1, 30 + 30, id="rate_limited: Retry-After 30 s, twice",
    ),
    pytest.param(
        {"endpoint": "create", "status": 418, "code": 12345, "times": None},
        Outcome.ERROR, 5, 0, 1 + 2 + 4 + 8, id="unexplained: transient, 5 attempts",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "outcome", "creates", "created", "waits"), ACTIVITY_RETRIES)
async def test_the_activity_retries_transient_errors(
    bench: Bench, rule: dict[str, Any], outcome: Outcome, creates: int, created: int, waits: float
) -> None:
    handle, result, calls = await bench.onboard(rule)

    assert result.outcome == outcome and result.attempts == 1
    assert (calls["create_requests"], calls["processes_created"]) == (creates, created)
    (create,) = await activity_calls(handle, "open_process")
    assert create.attempts == creates
    assert_waits([retried_for(create)], [waits])


# --- token_expired: a new token, bounded ------------------------------------------------


async def test_an_expired_token_is_replaced_and_the_call_made_again(bench: Bench) -> None:
    handle, result, calls = await bench.onboard({"endpoint": "create", "code": 10502})

    assert result.outcome == Outcome.APPROVED
    # A cold cache's token, then the new one; two creates, one process.
    assert calls == {"token_requests": 2, "create_requests": 2, "processes_created": 1,
                     "get_requests": 0}  # fmt: skip
    names = [call.name for call in await activity_calls(handle)]
    # The token is got in the create, and the selfie released by a local activity.
    assert names == ["open_process", "open_process"]


async def test_token_refreshes_are_bounded(bench: Bench) -> None:
    _, result, calls = await bench.onboard({"endpoint": "create", "code": 10501, "times": None})

    assert (result.outcome, result.reasons[0].code) == (Outcome.ERROR, "unico.10501")
    assert (calls["token_requests"], calls["create_requests"]) == (1 + 2, 1 + 2)
    assert calls["processes_created"] == 0


# --- configuration and locked: slow durable retries until an operator acts -------------


async def test_configuration_waits_growing_and_heals(bench: Bench) -> None:
    handle, result, calls = await bench.onboard({"endpoint": "create", "code": 10201, "times": 3})

    assert result.outcome == Outcome.APPROVED and result.attempts == 1
    assert (calls["create_requests"], calls["processes_created"]) == (4, 1)
    assert_waits(gaps(await activity_calls(handle, "open_process")), [60, 120, 240])
    stages = await stage_history(handle)
    assert stages[-3:] == ["blocked_configuration", "creating", "decided"]
    assert "blocked_by" not in await (await handle.describe()).memo()


async def test_configuration_gives_up_at_the_deadline(bench: Bench) -> None:
    handle, result, calls = await bench.onboard(
        {"endpoint": "create", "code": 10201, "times": None}, deadline_seconds=600
    )

    assert (result.outcome, result.reasons[0].code) == (Outcome.ERROR, "unico.10201")
    assert "still failing at the deadline" in result.reasons[0].message
    assert (calls["create_requests"], calls["processes_created"]) == (4, 0)
    # 60, 120 and 240 s between the tries; the last wait runs into the 600 s deadline.
    creates = await activity_calls(handle, "open_process")
    assert_waits(gaps(creates), [60, 120, 240])
    closed = (await handle.describe()).close_time
    assert closed is not None
    assert 175 <= (closed - creates[-1].scheduled).total_seconds() <= 185


async def test_a_locked_account_waits_longer_and_heals(bench: Bench) -> None:
    handle, result, calls = await bench.onboard({"endpoint": "token", "code": "1.2.18", "times": 2})

    assert result.outcome == Outcome.APPROVED
    assert (calls["token_requests"], calls["create_requests"]) == (3, 1)
    assert_waits(gaps(await activity_calls(handle, "open_process")), [300, 600])
    assert "blocked_locked" in await stage_history(handle)


async def wait_for_stage(handle: OnboardingHandle, stage: Stage) -> OnboardingStatus:
    for _ in range(200):
        status: OnboardingStatus = await handle.query(STATUS_QUERY, result_type=OnboardingStatus)
        if status.stage == stage:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{handle.id} never reached {stage}")


async def test_fixing_the_account_heals_every_waiting_onboarding(bench: Bench) -> None:
    bench.sandbox.inject({"endpoint": "create", "code": 10201, "times": None})  # wrong API key
    before = bench.sandbox.stats()
    handles = [await bench.start() for _ in range(2)]
    for handle in handles:
        status = await wait_for_stage(handle, Stage.BLOCKED_CONFIGURATION)
        assert status.blocked_by is not None and status.blocked_by.code == "unico.10201"
        assert (await (await handle.describe()).memo())["blocked_by"]["code"] == "unico.10201"

    bench.sandbox.clear_faults()  # the operator fixes the key; nobody restarts anything
    results = [await handle.result() for handle in handles]
    calls = delta(before, bench.sandbox.stats())

    assert [(r.outcome, r.attempts) for r in results] == [(Outcome.APPROVED, 1)] * 2
    assert calls["processes_created"] == 2
    assert calls["create_requests"] >= 4, "each was refused at least once"


async def test_retry_now_ends_the_wait_at_once(bench: Bench, env: WorkflowEnvironment) -> None:
    bench.sandbox.inject({"endpoint": "create", "code": 10201, "times": None})
    with env.with_time_skipping_disabled():  # real time: the 60 s timer must not fire
        handle = await bench.start()
    await wait_for_stage(handle, Stage.BLOCKED_CONFIGURATION)
    bench.sandbox.clear_faults()
    await handle.signal(RETRY_NOW_SIGNAL)
    result = await asyncio.wait_for(handle.result(), timeout=30)

    assert result.outcome == Outcome.APPROVED
    (wait,) = gaps(await activity_calls(handle, "open_process"))
    assert wait < 30, "the signal, not the 60 s timer, ended the wait"


# --- no retry: the outcome says why ------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (20507, Outcome.INVALID_REQUEST),  # Unico refuses the CPF the worker accepted
        (10508, Outcome.RECAPTURE),  # the SDK capture was used before
        (20023, Outcome.ERROR),  # permanent: a request no retry can fix
    ],
)
async def test_final_classes_end_at_once_with_unicos_code(
    bench: Bench, code: int, outcome: Outcome
) -> None:
    _, result, calls = await bench.onboard({"endpoint": "create", "code": code})

    assert (result.outcome, result.reasons[0].code) == (outcome, f"unico.{code}")
    assert (calls["create_requests"], calls["processes_created"]) == (1, 0)


# --- not_found, gone, and a create without an answer: a new process --------------------


async def test_a_process_unico_does_not_know_is_created_again(bench: Bench) -> None:
    _, result, calls = await bench.onboard({"endpoint": "get", "code": 50001}, cpf=ASYNC_CPF)

    assert result.outcome == Outcome.APPROVED and result.attempts == 2
    assert (calls["create_requests"], calls["processes_created"]) == (2, 2)


async def test_a_gone_process_is_created_again_up_to_the_attempts(bench: Bench) -> None:
    # GET answers 410 for this CPF's processes, every time.
    _, result, calls = await bench.onboard(cpf="00000000868", max_process_attempts=3)

    assert (result.outcome, result.attempts) == (Outcome.ERROR, 3)
    assert (calls["create_requests"], calls["processes_created"]) == (3, 3)
    assert calls["get_requests"] >= 3


async def test_a_create_without_an_answer_is_counted_and_made_again(bench: Bench) -> None:
    handle, result, calls = await bench.onboard({"endpoint": "create", "drop_connection": True})

    assert result.outcome == Outcome.APPROVED and result.attempts == 2
    # The duplicate the window allows: Unico created a process for the unanswered request.
    assert (calls["create_requests"], calls["processes_created"]) == (2, 2)
    status = await handle.query(STATUS_QUERY, result_type=OnboardingStatus)
    assert status.ambiguous_creates == 1
    assert (await (await handle.describe()).memo())["ambiguous_creates"] == 1
    creates = await activity_calls(handle, "open_process")
    assert [(c.attempts, c.failed) for c in creates] == [(1, True), (1, False)]


async def test_unanswered_creates_are_bounded_by_the_attempts(bench: Bench) -> None:
    handle, result, calls = await bench.onboard(
        {"endpoint": "create", "drop_connection": True, "times": None}
    )

    assert (result.outcome, result.attempts) == (Outcome.ERROR, 2)
    assert result.reasons[0].code == "create_process.ambiguous_create"
    assert (calls["create_requests"], calls["processes_created"]) == (2, 2)
    status = await handle.query(STATUS_QUERY, result_type=OnboardingStatus)
    assert status.ambiguous_creates == 2
