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

from activities.selfies import SelfieStore
from onboarding.runtime.settings import Settings, settings_from
from tests.integration.workers import Served, serving_workers
from tests.support import (
    KeyPair,
    Sandbox,
    make_key_pair,
    running_sandbox,
    worker_environment,
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
def environment(keys: KeyPair, sandbox: Sandbox, state: Path) -> dict[str, str]:
    """The session's worker's variables: the sandbox for every remote system, a task queue
    and a deployment of its own."""
    queue = f"onboarding-test-{uuid.uuid4().hex[:8]}"
    return {
        **worker_environment(keys, sandbox, state / "selfies"),
        "TASK_QUEUE": queue,
        "TEMPORAL_DEPLOYMENT_NAME": f"onboarding-{queue}",
        "TEMPORAL_WORKER_BUILD_ID": "test",
    }


@pytest.fixture(scope="session")
def settings(environment: dict[str, str]) -> Settings:
    return settings_from(Settings, environment)


@pytest.fixture(scope="session")
def selfies(environment: dict[str, str]) -> SelfieStore:
    return SelfieStore(Path(environment["SELFIE_DIR"]))


@pytest_asyncio.fixture(scope="session")
async def served(env: WorkflowEnvironment, environment: dict[str, str]) -> AsyncIterator[Served]:
    """The session's worker, as `python -m worker` wires it."""
    async with serving_workers(env.client, environment) as running:
        yield running


@pytest.fixture(scope="session")
def client(env: WorkflowEnvironment, served: Served) -> Client:
    return env.client
