"""Entry point: settings -> Temporal client -> worker. `--dev` starts the whole local stack.

With TEMPORAL_ADDRESS and the Unico credentials set, this runs one worker against that
cluster and Unico, and starts nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.auth import ServiceAccount, TokenCache
from activities.processes import UnicoActivities
from activities.selfie_cleanup import SelfieCleanup
from onboarding.client import StackUnavailable, connect
from onboarding.keys import load_unico_private_key
from onboarding.logs import configure_logging
from onboarding.selfies import open_selfie_store
from onboarding.settings import Settings, SettingsError, load_settings
from workflows.onboarding import Onboarding
from workflows.selfie_release import SelfieRetention

logger = logging.getLogger("worker")


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


def build_worker(client: Client, settings: Settings, activities: UnicoActivities) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[Onboarding, SelfieRetention],
        activities=[
            *activities.all(),
            *SelfieCleanup(activities.selfies, settings.selfie_retention_seconds).all(),
        ],
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_seconds),
        # The sandbox re-imports non-passed-through modules for every workflow run; our own
        # `workflows` package is deterministic and stateless at module level, and passing it
        # through cut the worker's CPU per onboarding by about 12% (README, "Benchmarks").
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows")
        ),
    )


async def serve(settings: Settings) -> None:
    account = load_service_account(settings)
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Leaving the block shuts the worker down: no new tasks, and running ones get
    # graceful_shutdown_seconds to finish.
    async with (
        unico_activities(settings, account) as activities,
        build_worker(client, settings, activities),
    ):
        logger.info(
            "worker polling task queue %r at %s", settings.task_queue, settings.temporal_address
        )
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the onboarding worker.")
    parser.add_argument("--dev", action="store_true", help="start the whole local stack")
    args = parser.parse_args(argv)
    if args.dev:
        from onboarding.devstack import run_dev_stack

        return run_dev_stack()
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        asyncio.run(serve(settings))
    except (SettingsError, StackUnavailable) as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    code = main()
    # Skip interpreter teardown, which the Temporal runtime's threads can abort
    # (temporalio/sdk-python issue #300): the worker has shut down cleanly by now.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
