"""The worker's wiring: which queue runs what, and the probes, against a real dev server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from onboarding.dev.stack import free_port
from onboarding.runtime.health import WorkerHealth, probe_server
from onboarding.runtime.settings import Settings
from tests.support import LOOPBACK
from worker import build_workers, load_service_account, running, unico_activities
from workflows.names import (
    GUARDIAN_ACTIVITIES,
    IDENTITY_CLOUD_ACTIVITIES,
    UNICO_API_ACTIVITIES,
    guardian_task_queue_for,
    identity_cloud_task_queue_for,
    unico_task_queue_for,
)


def activity_names(worker: Worker) -> set[str]:
    functions: list[Callable[..., Any]] = list(worker.config()["activities"])
    return {str(activity._Definition.must_from_callable(fn).name) for fn in functions}


async def test_each_remote_system_s_queue_runs_its_calls_at_its_fleet_rate(
    env: WorkflowEnvironment, settings: Settings
) -> None:
    settings = settings.model_copy(update={"task_queue": "wired"})  # the session's is taken
    account = load_service_account(settings)
    async with unico_activities(settings, account) as activities:
        workflows, unico, identity_cloud, guardian = build_workers(env.client, settings, activities)
    assert unico.task_queue == "wired-unico" == unico_task_queue_for(settings.task_queue)
    assert activity_names(unico) == UNICO_API_ACTIVITIES
    config = unico.config()
    assert config["max_task_queue_activities_per_second"] == settings.unico_requests_per_second
    assert not config["workflows"]
    assert workflows.task_queue == settings.task_queue
    # Every activity stays on the workflow queue too, for calls scheduled there before;
    # the selfie's release spends nothing of Unico's budget; the review default is a
    # local activity, run by the workflow's worker.
    assert activity_names(workflows) == {
        "inspect_selfie",
        "acquire_token",
        "release_selfie",
        "delete_selfie",
        "review_by_default",
        *UNICO_API_ACTIVITIES,
    }
    assert workflows.config().get("max_task_queue_activities_per_second") is None
    # Identity Cloud's entity API has its own budget, so a 510 storm there never slows
    # the Unico calls (and the reverse).
    assert identity_cloud.task_queue == "wired-identity-cloud"
    assert identity_cloud.task_queue == identity_cloud_task_queue_for(settings.task_queue)
    assert activity_names(identity_cloud) == IDENTITY_CLOUD_ACTIVITIES
    rate = identity_cloud.config()["max_task_queue_activities_per_second"]
    assert rate == settings.identity_cloud_requests_per_second
    assert not identity_cloud.config()["workflows"]
    assert guardian.task_queue == "wired-guardian" == guardian_task_queue_for(settings.task_queue)
    assert activity_names(guardian) == GUARDIAN_ACTIVITIES
    assert (
        guardian.config()["max_task_queue_activities_per_second"]
        == settings.guardian_requests_per_second
    )


async def test_probes_tell_polling_from_draining(
    env: WorkflowEnvironment, settings: Settings
) -> None:
    port = free_port()
    account = load_service_account(settings)
    probes = f"http://{LOOPBACK}:{port}"
    async with unico_activities(settings, account) as activities, httpx.AsyncClient() as http:
        workers = build_workers(
            env.client, settings.model_copy(update={"task_queue": "probed"}), activities
        )
        health = WorkerHealth(workers)
        async with probe_server(health, env.client, f"{LOOPBACK}:{port}"):
            not_polling = await http.get(f"{probes}/readyz")
            async with running(workers):
                while not health.ready()[0]:
                    await asyncio.sleep(0.05)
                polling = await http.get(f"{probes}/readyz")
                health.stopping = True
                draining = await http.get(f"{probes}/readyz")
                live = await http.get(f"{probes}/livez")
                unknown = await http.get(f"{probes}/metrics")
    assert not_polling.status_code == 503
    assert polling.status_code == 200 and polling.json()["detail"] == "polling"
    assert (draining.status_code, draining.json()["detail"]) == (503, "shutting down")
    assert live.status_code == 200
    assert unknown.status_code == 404
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{probes}/livez", timeout=1)  # the server is gone with the block


def test_liveness_fails_when_the_loop_stalls() -> None:
    now = [1000.0]
    health = WorkerHealth(clock=lambda: now[0], last_beat=1000.0)
    assert health.live()[0]
    now[0] += 31
    alive, detail = health.live()
    assert not alive and "stalled" in detail
