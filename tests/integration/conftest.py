"""The real worker and activities in process, against the sandbox over HTTP, on the session's
time-skipping dev server (tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.guardian.enrollments import MfaActivities
from activities.identity_cloud.accounts import AccountActivities
from activities.selfies.local_store import SelfieStore
from activities.unico_processes import UnicoActivities
from onboarding.runtime.settings import Settings
from tests.support import (
    KeyPair,
    Sandbox,
    make_key_pair,
    running_sandbox,
    worker_environment,
)
from worker import (
    account_activities,
    build_workers,
    load_service_account,
    mfa_activities,
    running,
    unico_activities,
)

SANDBOX_DELAY_SECONDS = 1.0


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
async def activities(settings: Settings) -> AsyncIterator[UnicoActivities]:
    async with unico_activities(settings, load_service_account(settings)) as running_activities:
        yield running_activities


@pytest_asyncio.fixture(scope="session")
async def accounts(settings: Settings) -> AsyncIterator[AccountActivities]:
    async with account_activities(settings) as running_accounts:
        yield running_accounts


@pytest_asyncio.fixture(scope="session")
async def mfa(settings: Settings) -> AsyncIterator[MfaActivities]:
    async with mfa_activities(settings) as running_mfa:
        yield running_mfa


@pytest_asyncio.fixture(scope="session")
async def client(
    env: WorkflowEnvironment,
    settings: Settings,
    activities: UnicoActivities,
    accounts: AccountActivities,
    mfa: MfaActivities,
) -> AsyncIterator[Client]:
    async with running(build_workers(env.client, settings, activities, accounts, mfa)):
        yield env.client
