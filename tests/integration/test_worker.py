"""The worker's wiring: which queue runs what, and the probes, against a real dev server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker

from activities import SYSTEMS
from contracts.activity import declarations
from devstack.stack import free_port
from onboarding.runtime.health import WorkerHealth, probe_server
from onboarding.runtime.settings import Settings, settings_from
from onboarding_client.contract.names import queue_for
from tests.integration.workers import environment_with
from tests.support import LOOPBACK
from worker import build_workers, replica_pace, running, wiring


def activity_names(worker: Worker) -> set[str]:
    functions: list[Callable[..., Any]] = list(worker.config()["activities"])
    return {str(activity._Definition.must_from_callable(fn).name) for fn in functions}


async def test_each_remote_system_s_queue_runs_its_calls_at_its_fleet_rate(
    env: WorkflowEnvironment, environment: dict[str, str]
) -> None:
    wired = environment_with(
        environment,
        task_queue="wired",  # the session's is taken
        unico_requests_per_second=3,
        identity_cloud_requests_per_second=4,
        guardian_requests_per_second=6,
    )
    settings = settings_from(Settings, wired)
    async with build_workers(env.client, wiring(settings, wired)) as workers:
        workflows, *remotes = workers
    # The workflows, and the activities that spend no remote system's budget: the selfie's
    # release and delete, the deployment's default (a local activity of this worker), and
    # the deletion of a run whose input came in clear.
    assert workflows.task_queue == "wired"
    assert activity_names(workflows) == {
        "release_selfie",
        "delete_selfie",
        "review_by_default",
        "forget_run",
    }
    assert workflows.config().get("max_task_queue_activities_per_second") is None
    # One worker per remote system, on its own queue under its own budget: a 510 storm at
    # Identity Cloud never slows the Unico calls (and the reverse).
    budgets = {"unico": 3, "identity-cloud": 4, "guardian": 6}
    assert [worker.task_queue for worker in remotes] == [
        queue_for(system.name, "wired") for system in SYSTEMS
    ]
    for system, worker in zip(SYSTEMS, remotes, strict=True):
        declared = {d.name for d in declarations() if d.system == system.name}
        assert declared and activity_names(worker) == declared, system.name
        config = worker.config()
        assert config["max_task_queue_activities_per_second"] == budgets[system.name]
        assert config["max_activities_per_second"] == budgets[system.name], "one replica: all"
        assert not config["workflows"]
    # Every worker declares the build: a pinned onboarding's calls go to its own build.
    for worker in workers:
        deployment = worker.config()["deployment_config"]
        assert deployment is not None and deployment.use_worker_versioning
        assert deployment.version.build_id == settings.temporal_worker_build_id


async def test_each_replica_keeps_to_its_share_of_the_fleet_rate_on_its_own(
    env: WorkflowEnvironment, environment: dict[str, str]
) -> None:
    wired = environment_with(
        environment, task_queue="shared", unico_requests_per_second=9, worker_replicas=3
    )
    settings = settings_from(Settings, wired)
    async with build_workers(env.client, wiring(settings, wired)) as workers:
        unico = next(w for w in workers if w.task_queue == queue_for("unico", "shared"))
    config = unico.config()
    assert config["max_task_queue_activities_per_second"] == 9, "the server: the whole fleet's"
    assert config["max_activities_per_second"] == 3, "each of 3 replicas: a third"
    # A backlog answers every waiting poll at once: two at a time keep a third about a third.
    assert config["activity_task_poller_behavior"] == PollerBehaviorSimpleMaximum(2)


@pytest.mark.parametrize(
    ("fleet_rate", "replicas", "polls"), [(9.5, 2, 2), (30, 1, 3), (1000, 2, 5)]
)
def test_a_replica_keeps_two_to_five_polls_waiting_a_tenth_of_a_second_of_its_share(
    fleet_rate: float, replicas: int, polls: int
) -> None:
    pace = replica_pace(fleet_rate, replicas)
    assert pace["max_activities_per_second"] == fleet_rate / replicas
    assert pace["activity_task_poller_behavior"] == PollerBehaviorSimpleMaximum(polls)


async def test_probes_tell_polling_from_draining(
    env: WorkflowEnvironment, environment: dict[str, str]
) -> None:
    port = free_port()
    probes = f"http://{LOOPBACK}:{port}"
    probed = environment_with(environment, task_queue="probed")
    settings = settings_from(Settings, probed)
    async with (
        build_workers(env.client, wiring(settings, probed)) as workers,
        httpx.AsyncClient() as http,
    ):
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
