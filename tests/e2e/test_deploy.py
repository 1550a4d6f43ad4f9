"""A deploy by Worker Deployment Versioning, on a real dev server with real workers.

Build A (`python -m worker`) runs; an onboarding waits for a reviewer on A. Build B, whose
workflow issues other commands (a pause first: replaying A's history on B would fail),
starts and becomes current. A new onboarding runs on B. The waiting one is answered: it
finishes on A, its account registered by A's worker although B polls the same queues. A
then reports drained, and stops. The timeline is printed (`pytest -s`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from temporalio.api.history.v1 import HistoryEvent
from temporalio.common import WorkerDeploymentVersion

from devstack.credentials import CONSOLE_KEY_ID, console_signing_key
from devstack.demo import SAMPLE_SELFIE
from devstack.history import activity_names, events_of, of_kind
from devstack.stack import DevStack
from devstack.versions import FAST_DRAINAGE, drainage
from devstack.watch import until_stage
from onboarding.runtime.settings import Settings, settings_from
from onboarding.temporal.reviews import review_onboarding
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import start_onboarding
from tests.integration.workers import environment_with
from tests.replay.altered import OnboardingWithAPause
from tests.reviewers import signed_answer
from worker import build_workers, running, wiring

pytestmark = pytest.mark.e2e

REVIEWED_CPF = "00000000353"  # score 28: a `review` decision
APPROVED_CPF = "12345678909"


def request(stack: DevStack, cpf: str, **options: Any) -> OnboardingRequest:
    return OnboardingRequest.model_validate(
        {
            "request_id": f"deploy-{uuid.uuid4().hex[:10]}",
            "subject": {"code": cpf, "name": "Maria Silva"},
            "selfie_ref": stack.selfies.put(SAMPLE_SELFIE.read_bytes()),
            "options": {"poll_initial_seconds": 0.5, "poll_max_seconds": 1, **options},
        }
    )


def builds_of(events: list[HistoryEvent]) -> set[str]:
    """The builds whose workers completed the run's workflow tasks."""
    return {
        event.workflow_task_completed_event_attributes.deployment_version.build_id
        for event in of_kind(events, "WORKFLOW_TASK_COMPLETED")
    }


def activity_workers(events: list[HistoryEvent]) -> dict[str, str]:
    """Each activity the run scheduled, and the identity of the worker that ran it."""
    names = activity_names(events)
    return {
        names[event.activity_task_started_event_attributes.scheduled_event_id]: (
            event.activity_task_started_event_attributes.identity
        )
        for event in of_kind(events, "ACTIVITY_TASK_STARTED")
    }


async def test_a_pinned_onboarding_finishes_on_its_build_while_new_ones_run_on_the_next(
    state: Path,
) -> None:
    started = time.monotonic()
    timeline: list[str] = []

    def note(text: str) -> None:
        timeline.append(f"{time.monotonic() - started:6.1f}s  {text}")

    async with DevStack.on_free_ports(
        state, parts=("temporal", "sandbox"), webhooks=False, temporal_args=FAST_DRAINAGE
    ) as stack:
        build_a = stack.spawn_worker("worker-a", {"TEMPORAL_WORKER_BUILD_ID": "A"})
        try:
            await asyncio.to_thread(build_a.wait_ready)  # and A becomes current
            note("build A polling, current")
            client, queue = stack.client, stack.settings.task_queue
            waiting = await start_onboarding(
                client,
                request(
                    stack,
                    REVIEWED_CPF,
                    review={"enabled": True, "deadline_seconds": 600},
                    account={"register": True},
                ),
                queue,
            )
            await until_stage(waiting, Stage.AWAITING_REVIEW, seconds=60)
            note(f"{waiting.id} awaits a reviewer on A")

            environment = environment_with(stack.environment, temporal_worker_build_id="B")
            settings = settings_from(Settings, environment)
            wired = wiring(settings, environment)
            async with (
                build_workers(client, wired, [OnboardingWithAPause]) as workers_b,
                running(workers_b),
            ):
                await asyncio.to_thread(stack.make_current, "B")
                note("build B (a pause first: other commands) polling, made current")

                fresh = await start_onboarding(client, request(stack, APPROVED_CPF), queue)
                assert (await fresh.result()).outcome is Outcome.APPROVED
                note(f"{fresh.id} ran on B: approved")

                # Signed as the stack's console signs (this stack runs no console).
                key = load_pem_private_key(
                    console_signing_key(stack.config.keys_dir).read_bytes(), None
                )
                assert isinstance(key, Ed25519PrivateKey)
                request_id = waiting.id.removeprefix("onboarding-")
                answer = signed_answer(request_id, "approved", key=key, key_id=CONSOLE_KEY_ID)
                await review_onboarding(client, request_id, answer)
                result = await waiting.result()
                note(
                    f"{waiting.id} answered: {result.outcome.value} on A, account "
                    f"{result.account.status.value if result.account else None}"
                )

                version_a = WorkerDeploymentVersion(stack.version.deployment_name, "A")
                deadline = time.monotonic() + 60
                while (status := await drainage(client, version_a)) != "drained":
                    assert time.monotonic() < deadline, f"A still {status}"
                    await asyncio.sleep(0.5)
                note("build A reports drained")
            waited, ran_fresh = await events_of(waiting), await events_of(fresh)
        finally:
            build_a.stop()
        note("build A stopped")
        print("\n" + "\n".join(timeline))

    assert result.outcome is Outcome.APPROVED
    assert result.account is not None and result.account.uuid
    assert builds_of(waited) == {"A"}, "the pinned run never met B's code"
    assert builds_of(ran_fresh) == {"B"}
    assert of_kind(ran_fresh, "TIMER_STARTED"), "B's pause: B's commands"
    calls = activity_workers(waited)
    assert calls["register_account"].endswith("build A"), calls
    assert all(worker.endswith("build A") for worker in calls.values()), calls
    assert all(worker.endswith("build B") for worker in activity_workers(ran_fresh).values())
