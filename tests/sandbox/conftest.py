"""The stand-in in process, over ASGI, with the default test configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.sandbox.client import client_for, make_config


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_config()) as sandbox:
        yield sandbox
