"""Entry point: settings -> Temporal client -> workers. It wires; it decides nothing.

With a Temporal profile or the TEMPORAL_* variables (onboarding/temporal/connection.py), a
build id and the Unico credentials set, this runs one worker process against that namespace:
one Temporal worker for the workflows, and one per remote system (`activities.SYSTEMS`), each
on its own task queue under the fleet's budget for that system. Every one of them declares
the same Worker Deployment Version, so an onboarding stays on the build that started it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import signal
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker, WorkerDeploymentConfig
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import (
    SYSTEMS,
    DeploymentDefaults,
    HistoryKeeper,
    RemoteSystem,
    Shared,
    SystemSettingsError,
)
from activities.selfies import SelfieCleanup, SelfieSettings, SelfieSweeper, open_store
from contracts.evidence import EvidenceSeal
from contracts.review_proof import trusted_signers
from onboarding.runtime.entry import leave, run_service
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.health import WorkerHealth, probe_server
from onboarding.runtime.secrets import load_keyring, load_signer_keys
from onboarding.runtime.settings import Settings, read_settings
from onboarding.runtime.telemetry import metrics_runtime
from onboarding.temporal.client import connect, missing_search_attributes, onboarding_open
from onboarding.temporal.connection import TemporalTarget
from onboarding_client.contract.names import queue_for
from workflows import WORKFLOWS

logger = logging.getLogger("worker")

# The sandbox re-imports the modules not passed through for every workflow run; the
# `workflows`, `contracts` and `onboarding_client` packages are deterministic (the workflow
# uses only the last one's contract) and hold no module-level state, so they are passed
# through once (docs/benchmarks.md has what that saves).
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "workflows", "contracts", "onboarding_client"
    )
)
# An update's rejection carries the request it refuses back to the server. With the SDK's
# own payload check on, an input over the namespace's limit (a 3 MB `review`) failed the
# workflow task that refused it, again at each retry, and queries failed meanwhile; without
# it, the server turns that one answer away, drops the update, and the run goes on with
# nothing in its history (tests/workflow/test_hostile_input.py). The server still refuses
# every oversized payload a workflow would write.
LEAVE_PAYLOAD_LIMIT_TO_SERVER = True
# A remote system's worker: how many polls may wait at once (replica_pace). At least two: a
# queue on several partitions (the server's default) with one poll per worker left that
# poll waiting on a throttled partition, 60 calls took 19.9 s where two polls took 13.3.
MIN_POLLS, MAX_POLLS = 2, 5  # 5: the SDK's default
BURST_SECONDS = 0.1


@dataclass(frozen=True)
class Wiring:
    """What the workers of one process are made of, read and checked before any polls."""

    settings: Settings
    version: WorkerDeploymentVersion
    selfies: SelfieSettings
    shared: Shared
    systems: Sequence[tuple[RemoteSystem[Any], Any, bool]]  # (system, its settings, configured)
    signers: Mapping[str, Ed25519PublicKey]  # the reviewers' console keys trusted


def wiring(settings: Settings, environment: Mapping[str, str] | None = None) -> Wiring:
    """Every setting the workers need, from `environment` (this process's by default), or
    `SettingsError` in one line."""
    environment = os.environ if environment is None else environment
    if not settings.temporal_worker_build_id:
        raise SettingsError(
            "TEMPORAL_WORKER_BUILD_ID is not set: every build of the worker declares its id "
            "(the image and `onboarding dev` set one)"
        )
    version = WorkerDeploymentVersion(
        settings.temporal_deployment_name, settings.temporal_worker_build_id
    )
    systems = []
    for system in SYSTEMS:
        system_settings = read_settings(system.settings, environment)
        try:
            systems.append((system, system_settings, system_settings.check()))
        except SystemSettingsError as exc:
            raise SettingsError(str(exc)) from None
    selfies = read_settings(SelfieSettings, environment)
    keyring = load_keyring(settings)
    store = open_store(selfies)
    shared = Shared(
        selfies=store,
        cleanup=SelfieCleanup(
            store,
            selfies.retention_seconds,
            EvidenceSeal(keyring.keys, keyring.current_id),
            review_by_default=settings.review_by_default,
        ),
        payload_keys=keyring.keys,
        current_key_id=keyring.current_id,
    )
    return Wiring(settings, version, selfies, shared, systems, load_signer_keys(settings))


def worker_options(wired: Wiring) -> dict[str, Any]:
    """What every Temporal worker of this process shares: the build, the drain."""
    return {
        "deployment_config": WorkerDeploymentConfig(
            version=wired.version, use_worker_versioning=True
        ),
        # History names the worker of each activity: its build too, for a deploy's audit.
        "identity": f"{os.getpid()}@{socket.gethostname()} build {wired.version.build_id}",
        "graceful_shutdown_timeout": timedelta(seconds=wired.settings.graceful_shutdown_seconds),
    }


def replica_pace(fleet_rate: float, replicas: int) -> dict[str, Any]:
    """One replica's share of a remote system's budget, and no more polls waiting at once
    than a tenth of a second of it (at least two).

    The server lets about a second's worth of the fleet's rate go at once after a quiet
    spell, and a worker's waiting polls are all answered together when a backlog comes in:
    a tenant whose own limit has no more burst than that refuses the excess. Each replica
    paced at its share with few polls keeps the calls evenly spaced (docs/operations.md).
    """
    share = fleet_rate / replicas
    polls = min(MAX_POLLS, max(MIN_POLLS, math.floor(share * BURST_SECONDS)))
    return {
        "max_activities_per_second": share,
        "activity_task_poller_behavior": PollerBehaviorSimpleMaximum(polls),
    }


@asynccontextmanager
async def build_workers(
    client: Client, wired: Wiring, workflows: Sequence[type] = WORKFLOWS
) -> AsyncIterator[list[Worker]]:
    """The workflow queue's worker (the workflows, the selfie store's and the deployment's
    own activities), then one worker per remote system on its own queue, which the server
    rate-limits for the whole fleet (every replica must be given the same budget)."""
    settings, options = wired.settings, worker_options(wired)
    defaults = DeploymentDefaults(settings.review_by_default)
    # The review update's validator reads them (contracts/review_proof.py).
    trusted_signers.replace(wired.signers)
    workers = [
        Worker(
            client,
            task_queue=settings.task_queue,
            workflows=list(workflows),
            activities=[*wired.shared.cleanup.all(), *defaults.all(), *HistoryKeeper().all()],
            disable_payload_error_limit=LEAVE_PAYLOAD_LIMIT_TO_SERVER,
            workflow_runner=WORKFLOW_RUNNER,
            **options,
        )
    ]
    async with AsyncExitStack() as stack:
        for system, system_settings, _ in wired.systems:
            activities = await stack.enter_async_context(
                system.activities(system_settings, wired.shared)
            )
            workers.append(
                Worker(
                    client,
                    task_queue=queue_for(system.name, settings.task_queue),
                    activities=list(activities),
                    max_task_queue_activities_per_second=system_settings.requests_per_second,
                    **replica_pace(system_settings.requests_per_second, settings.worker_replicas),
                    **options,
                )
            )
        yield workers


@asynccontextmanager
async def serving(
    client: Client, settings: Settings, environment: Mapping[str, str] | None = None
) -> AsyncIterator[list[Worker]]:
    """The workers of `settings` (and `environment`), running until the block ends."""
    async with (
        build_workers(client, wiring(settings, environment)) as workers,
        running(workers),
    ):
        yield workers


@asynccontextmanager
async def running(workers: Sequence[Worker]) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run the workers; on the way out shut them all down at once.

    Shutting down stops polling at once and gives running activities
    graceful_shutdown_seconds to finish, in every worker in parallel (one after the other
    would add the waits up). Yields the run tasks: one that ends early is a fatal error.
    """
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        yield tasks
    finally:
        await asyncio.gather(*(worker.shutdown() for worker in workers))
        await asyncio.gather(*tasks)  # raises a worker's fatal error, if one had any


@asynccontextmanager
async def sweeping(client: Client, wired: Wiring) -> AsyncIterator[None]:
    """The selfie store's sweep (`activities/selfies/sweeper.py`), while the worker runs."""
    every = wired.selfies.sweep_seconds
    if every <= 0:
        yield
        return
    sweeper = SelfieSweeper(
        wired.shared.selfies, partial(onboarding_open, client), wired.selfies.unclaimed_seconds
    )
    async with sweeper.running(every):
        yield


def describe(wired: Wiring, workers: Sequence[Worker], target: TemporalTarget) -> str:
    unconfigured = [system.title for system, _, configured in wired.systems if not configured]
    waits = (
        f" ({' and '.join(unconfigured)} not configured: an onboarding that asks for that "
        "step waits in blocked_configuration)"
        if unconfigured
        else ""
    )
    version = f"{wired.version.deployment_name}/{wired.version.build_id}"
    queues = [worker.task_queue for worker in workers]
    signers = (
        f"; review answers signed by console key(s) {sorted(wired.signers)}"
        if wired.signers
        else "; no console key (REVIEW_SIGNER_KEYS): every review answer is refused"
    )
    return (
        f"worker polling task queues {queues} as build {version} at {target.describe()}"
        f"{waits}{signers}"
    )


async def serve(settings: Settings) -> None:
    runtime = metrics_runtime(settings)  # a taken port stops the start before anything else
    wired = wiring(settings)
    target = TemporalTarget.from_environment()
    client = await connect(settings, runtime=runtime, target=target, worker=True)
    if missing := await missing_search_attributes(client):
        # Every task that upserts one would fail, over and over: refuse to start instead.
        raise SettingsError(
            f"namespace {target.namespace} lacks search attribute(s) {', '.join(missing)}: "
            "register each with `temporal operator search-attribute create --name NAME "
            "--type TYPE`"
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with build_workers(client, wired) as workers:
        health = WorkerHealth(workers)
        async with (
            probe_server(health, client, settings.health_bind_address),
            sweeping(client, wired),
            running(workers) as tasks,
        ):
            logger.info(describe(wired, workers, target))
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            health.stopping = True  # readiness fails at once; liveness holds while draining
            logger.info("worker stopping: no new tasks; running activities may finish")


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description="Run the onboarding worker (`onboarding dev` runs the whole local stack)."
    ).parse_args(argv)
    return run_service("worker", serve)


if __name__ == "__main__":
    leave(main())
