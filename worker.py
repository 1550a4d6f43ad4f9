"""Entry point: settings -> Temporal client -> workers. It wires; it decides nothing.

With a Temporal profile or the TEMPORAL_* variables (onboarding/temporal/connection.py) and
the Unico credentials set, this runs one worker against that namespace and Unico, and starts
nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.client_credentials import ClientCredentials
from activities.deployment import DeploymentDefaults
from activities.guardian.enrollment_api import GuardianApi
from activities.guardian.enrollments import MfaActivities
from activities.guardian.management import ManagementApi
from activities.guardian.sealing import TransactionSeal
from activities.identity_cloud.accounts import AccountActivities
from activities.identity_cloud.entity_api import EntityApi
from activities.identity_cloud.mapping import DEFAULT_MAPPING, AttributeMapping
from activities.selfies.cleanup import SelfieCleanup
from activities.unico_auth import ServiceAccount, TokenCache
from activities.unico_processes import UnicoActivities
from onboarding.runtime.entry import leave, run_service
from onboarding.runtime.health import WorkerHealth, probe_server
from onboarding.runtime.secrets import load_keyring, load_unico_private_key
from onboarding.runtime.selfie_store import open_selfie_store
from onboarding.runtime.settings import (
    Settings,
    SettingsError,
    guardian_configured,
    identity_cloud_configured,
    identity_cloud_mapping,
)
from onboarding.runtime.telemetry import metrics_runtime
from onboarding.temporal.client import connect, missing_search_attributes
from onboarding.temporal.connection import TemporalTarget
from workflows.names import (
    guardian_task_queue_for,
    identity_cloud_task_queue_for,
    unico_task_queue_for,
)
from workflows.onboarding import Onboarding
from workflows.selfie_release import SelfieRetention

logger = logging.getLogger("worker")
DEFAULT_ACCOUNTS_MAPPING = AttributeMapping(dict(DEFAULT_MAPPING))


def load_service_account(settings: Settings) -> ServiceAccount:
    settings.require_unico_credentials()
    assert settings.unico_service_account is not None
    pem = load_unico_private_key(settings)
    return ServiceAccount(
        settings.unico_service_account, settings.audience, settings.token_url, pem
    )


@asynccontextmanager
async def unico_activities(
    settings: Settings, account: ServiceAccount
) -> AsyncIterator[UnicoActivities]:
    """One pooled HTTP client and one token cache for every activity of this worker."""
    timeout = httpx.Timeout(
        settings.unico_read_timeout_seconds, connect=settings.unico_connect_timeout_seconds
    )
    limits = httpx.Limits(max_connections=settings.unico_max_connections)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
        assert settings.unico_api_key is not None
        yield UnicoActivities(
            http=http,
            tokens=TokenCache(account, http, settings.token_safety_margin_seconds),
            selfies=open_selfie_store(settings),
            api_url=settings.unico_api_url,
            api_key=settings.unico_api_key,
        )


@asynccontextmanager
async def account_activities(settings: Settings) -> AsyncIterator[AccountActivities]:
    """The account step's activity, with its own HTTP client; without Identity Cloud
    settings it answers `configuration`, so an onboarding that asks for an account waits
    for an operator instead of failing."""
    mapping = identity_cloud_mapping(settings)
    if not identity_cloud_configured(settings):
        yield AccountActivities(None, mapping)
        return
    assert settings.identity_cloud_url and settings.identity_cloud_client_id
    secret = settings.identity_cloud_client_secret
    credentials = ClientCredentials(
        settings.identity_cloud_client_id,
        secret.get_secret_value() if secret else None,
        settings.identity_cloud_client_secret_file,
    )
    timeout = httpx.Timeout(settings.identity_cloud_timeout_seconds)
    async with httpx.AsyncClient(timeout=timeout) as http:
        api = EntityApi(
            http, settings.identity_cloud_url, credentials, settings.identity_cloud_entity_type
        )
        yield AccountActivities(api, mapping)


@asynccontextmanager
async def mfa_activities(settings: Settings) -> AsyncIterator[MfaActivities]:
    """The MFA step's activities, with their own HTTP client and Auth0 token cache; without
    Auth0 and Guardian settings they answer `configuration`, as the account step does."""
    keyring = load_keyring(settings)
    seal = TransactionSeal(keyring.keys, keyring.current_id)
    template = settings.guardian_user_id_template
    if not guardian_configured(settings):
        yield MfaActivities(None, None, seal, template)
        return
    assert settings.auth0_tenant_url and settings.auth0_client_id and settings.guardian_url
    secret = settings.auth0_client_secret
    credentials = ClientCredentials(
        settings.auth0_client_id,
        secret.get_secret_value() if secret else None,
        settings.auth0_client_secret_file,
        setting="AUTH0_CLIENT_SECRET",
    )
    async with httpx.AsyncClient(timeout=httpx.Timeout(settings.guardian_timeout_seconds)) as http:
        management = ManagementApi(http, settings.auth0_tenant_url, credentials)
        yield MfaActivities(management, GuardianApi(http, settings.guardian_url), seal, template)


def _unconfigured_mfa(settings: Settings) -> MfaActivities:
    seal = TransactionSeal({"unset": os.urandom(32)}, "unset")  # never used: no calls go out
    return MfaActivities(None, None, seal, settings.guardian_user_id_template)


def build_workers(
    client: Client,
    settings: Settings,
    activities: UnicoActivities,
    accounts: AccountActivities | None = None,
    mfa: MfaActivities | None = None,
) -> list[Worker]:
    """Four workers on one connection, each with its own task queue.

    The workflow queue runs the workflow and the activities that spend nothing of a remote
    system's request budget. The Unico queue runs the process-API calls, and tells the
    server to dispatch at most `unico_requests_per_second` of them: the server enforces it
    for the whole fleet, however many replicas poll (the last poller's value wins, so every
    replica must be given the same). The Identity Cloud queue does the same for the entity
    API, at `identity_cloud_requests_per_second` (`accounts` None: not configured), and the
    Guardian queue for Auth0's and Guardian's, at `guardian_requests_per_second` (`mfa`
    None: not configured).

    The workflow queue keeps the process-API activities registered too: a worker of the
    version before this queue existed scheduled them there, and such a call, still waiting
    at a deploy, must find a worker (new code never schedules them there).
    """
    cleanup = SelfieCleanup(activities.selfies, settings.selfie_retention_seconds)
    activities = activities.releasing_with(cleanup)
    defaults = DeploymentDefaults(settings.review_by_default)
    drain = timedelta(seconds=settings.graceful_shutdown_seconds)
    return [
        Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[Onboarding, SelfieRetention],
            activities=[*activities.all(), *cleanup.all(), *defaults.all()],
            graceful_shutdown_timeout=drain,
            # The sandbox re-imports the modules not passed through for every workflow
            # run; our `workflows` package is deterministic and has no module-level state,
            # so it is passed through once (docs/benchmarks.md has what that saves).
            workflow_runner=SandboxedWorkflowRunner(
                restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows")
            ),
        ),
        Worker(
            client,
            task_queue=unico_task_queue_for(settings.task_queue),
            activities=activities.process_api(),
            max_task_queue_activities_per_second=settings.unico_requests_per_second,
            graceful_shutdown_timeout=drain,
        ),
        Worker(
            client,
            task_queue=identity_cloud_task_queue_for(settings.task_queue),
            activities=(accounts or AccountActivities(None, DEFAULT_ACCOUNTS_MAPPING)).all(),
            max_task_queue_activities_per_second=settings.identity_cloud_requests_per_second,
            graceful_shutdown_timeout=drain,
        ),
        Worker(
            client,
            task_queue=guardian_task_queue_for(settings.task_queue),
            activities=(mfa or _unconfigured_mfa(settings)).all(),
            max_task_queue_activities_per_second=settings.guardian_requests_per_second,
            graceful_shutdown_timeout=drain,
        ),
    ]


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


async def serve(settings: Settings) -> None:
    account = load_service_account(settings)
    accounts_configured = identity_cloud_configured(settings)  # half of it, or a bad mapping
    mfa_configured = guardian_configured(settings)
    target = TemporalTarget.from_environment()
    client = await connect(settings, runtime=metrics_runtime(settings), target=target)
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
    async with (
        unico_activities(settings, account) as activities,
        account_activities(settings) as accounts,
        mfa_activities(settings) as mfa,
    ):
        workers = build_workers(client, settings, activities, accounts, mfa)
        health = WorkerHealth(workers)
        async with (
            probe_server(health, client, settings.health_bind_address),
            running(workers) as tasks,
        ):
            unconfigured = [
                name
                for name, configured in (
                    ("Identity Cloud", accounts_configured),
                    ("Guardian", mfa_configured),
                )
                if not configured
            ]
            logger.info(
                "worker polling task queues %s at %s%s",
                [worker.task_queue for worker in workers],
                target.describe(),
                f" ({' and '.join(unconfigured)} not configured: an onboarding that asks for "
                "that step waits in blocked_configuration)"
                if unconfigured
                else "",
            )
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
