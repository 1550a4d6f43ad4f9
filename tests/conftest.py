"""What every tier may share: one time-skipping dev server per session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from devstack.stack import temporal_binary
from onboarding.temporal.converter import worker_data_converter
from onboarding_client.contract.names import SEARCH_ATTRIBUTES
from tests.support import fixed_keyring

SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS = 40


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
        search_attributes=list(SEARCH_ATTRIBUTES),
        data_converter=worker_data_converter(fixed_keyring()),
    )
    async with environment:
        yield environment
