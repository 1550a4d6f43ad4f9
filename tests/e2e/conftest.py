"""Per test module: a scratch folder, a service-account key pair, a real-time dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.e2e.fleet import local_temporal
from tests.support import KeyPair, make_key_pair


@pytest.fixture(scope="module")
def state(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def keys(state: Path) -> KeyPair:
    return make_key_pair(state / "keys")


@pytest_asyncio.fixture(scope="module")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    async with await local_temporal() as env:
        yield env
