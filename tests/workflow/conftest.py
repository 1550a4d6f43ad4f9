"""A time-skipping dev server, the sandbox over HTTP and an in-process worker, per session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.selfies.local_store import SelfieStore
from activities.unico_processes import UnicoActivities
from onboarding.dev.stack import temporal_binary
from onboarding.runtime.settings import Settings
from onboarding.temporal.converter import data_converter
from tests.support import (
    KeyPair,
    Sandbox,
    fixed_keyring,
    make_key_pair,
    running_sandbox,
    worker_environment,
)
from worker import build_workers, load_service_account, running, unico_activities
from workflows.names import OUTCOME_ATTRIBUTE, PROCESS_ATTRIBUTE, STAGE_ATTRIBUTE

SANDBOX_DELAY_SECONDS = 1.0
SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS = 40


@pytest.fixture(scope="session")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workflow")


@pytest.fixture(scope="session")
def keys(state: Path) -> KeyPair:
    return make_key_pair(state / "keys")


@pytest.fixture(scope="session")
def sandbox(keys: KeyPair, state: Path) -> Iterator[Sandbox]:
    with running_sandbox(keys, SANDBOX_DELAY_SECONDS, state / "sandbox.log") as running:
        yield running


@pytest.fixture(scope="session")
def settings(keys: KeyPair, sandbox: Sandbox, state: Path) -> Settings:
    env = worker_environment(keys, sandbox, state / "selfies")
    return Settings.model_validate(
        {
            **{key.lower(): value for key, value in env.items()},
            "task_queue": f"onboarding-test-{uuid.uuid4().hex[:8]}",
        }
    )


@pytest.fixture(scope="session")
def selfies(settings: Settings) -> SelfieStore:
    return SelfieStore(settings.selfie_dir)


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=str(temporal_binary()),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
            # Suggest continue-as-new after a few poll rounds instead of thousands of events,
            # so that every long wait in these tests crosses a run boundary.
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS}",
        ],
        search_attributes=[STAGE_ATTRIBUTE, OUTCOME_ATTRIBUTE, PROCESS_ATTRIBUTE],
        data_converter=data_converter(fixed_keyring()),
    )
    async with environment:
        yield environment


@pytest_asyncio.fixture(scope="session")
async def activities(settings: Settings) -> AsyncIterator[UnicoActivities]:
    async with unico_activities(settings, load_service_account(settings)) as running_activities:
        yield running_activities


@pytest_asyncio.fixture(scope="session")
async def client(
    env: WorkflowEnvironment, settings: Settings, activities: UnicoActivities
) -> AsyncIterator[Client]:
    async with running(build_workers(env.client, settings, activities)):
        yield env.client
