"""Waiting for an onboarding to reach a stage, by asking its `status` query.

For the demo, the replay recorder, the benchmarks and the tests, which play a reviewer or a
person and must act once the onboarding waits for them. Each query is billed on Temporal
Cloud: an app waits on an update's answer instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import WorkflowHandle

from onboarding_client.contract.names import STATUS_QUERY
from onboarding_client.contract.status import OnboardingStatus, Stage


async def until_stage(
    handle: WorkflowHandle[Any, Any],
    *stages: Stage,
    seconds: float | None = 20,
    poll: float = 0.05,
) -> OnboardingStatus:
    """The `status` query's answer once the onboarding is in one of `stages`; TimeoutError
    after `seconds` (None: no bound)."""
    async with asyncio.timeout(seconds):
        while True:
            status: OnboardingStatus = await handle.query(
                STATUS_QUERY, result_type=OnboardingStatus
            )
            if status.stage in stages:
                return status
            await asyncio.sleep(poll)
