"""A whole stack in one process, for recordings and benchmarks that need real time.

A Temporal dev server (in memory), the sandbox as a child process announcing final
processes by webhook to the gateway, and the gateway and a worker in this event loop, all
on free loopback ports, with test keys only: payloads are encrypted with the fixed test
keyring (`tests.support.TEST_KEYS`), as the worker and the gateway's client encrypt them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.selfies import SelfieStore
from onboarding.converter import data_converter
from onboarding.devstack import temporal_binary
from onboarding.gateway import create_gateway
from onboarding.settings import Settings
from tests.serving import serving
from tests.support import (
    GATEWAY_TOKEN,
    KeyPair,
    Sandbox,
    fixed_keyring,
    free_port,
    make_key_pair,
    running_sandbox,
    worker_environment,
)
from worker import build_workers, load_service_account, running, unico_activities
from workflows.onboarding import OUTCOME_ATTRIBUTE, PROCESS_ATTRIBUTE, STAGE_ATTRIBUTE

WEBHOOK_TOKEN = "test-webhook-token"  # a test secret; it never enters a history


def webhook_args(gateway_port: int) -> list[str]:
    """The sandbox flags that make it announce to the gateway, as Unico's team would."""
    return [
        "--webhook-url",
        f"http://127.0.0.1:{gateway_port}/webhooks/unico",
        "--webhook-header",
        f"Authorization: Bearer {WEBHOOK_TOKEN}",
    ]


def stack_settings(
    keys: KeyPair,
    sandbox: Sandbox,
    work: Path,
    task_queue: str,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Worker and gateway settings: the sandbox is Unico, uploads and the webhook take
    bearer tokens."""
    environment = worker_environment(keys, sandbox, work / "selfies")
    return Settings.model_validate(
        {
            **{key.lower(): value for key, value in environment.items()},
            "task_queue": task_queue,
            "gateway_api_token": GATEWAY_TOKEN,
            "webhook_auth": "bearer",
            "webhook_bearer_token": WEBHOOK_TOKEN,
            **(overrides or {}),
        }
    )


@dataclass(frozen=True)
class LocalStack:
    client: Client
    settings: Settings
    sandbox: Sandbox
    selfies: SelfieStore


@asynccontextmanager
async def local_stack(
    work: Path,
    *,
    task_queue: str,
    sandbox_delay: float,
    dev_server_args: Sequence[str] = (),
    settings_overrides: Mapping[str, Any] | None = None,
) -> AsyncIterator[LocalStack]:
    keys = make_key_pair(work / "keys")
    gateway_port = free_port()
    log = work / "sandbox.log"
    with running_sandbox(keys, sandbox_delay, log, webhook_args(gateway_port)) as sandbox:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary()),
            dev_server_extra_args=list(dev_server_args),
            search_attributes=[STAGE_ATTRIBUTE, OUTCOME_ATTRIBUTE, PROCESS_ATTRIBUTE],
            data_converter=data_converter(fixed_keyring()),
            ui=False,
        )
        async with env:
            settings = stack_settings(keys, sandbox, work, task_queue, settings_overrides)
            selfies = SelfieStore(settings.selfie_dir)
            gateway = create_gateway(settings, selfies, temporal=env.client)
            async with (
                serving(gateway, port=gateway_port),
                unico_activities(settings, load_service_account(settings)) as activities,
                running(build_workers(env.client, settings, activities)),
            ):
                yield LocalStack(env.client, settings, sandbox, selfies)
