"""End to end: a calling service that forgot the codec, against a real dev server and worker.

The person's data reaches the server in clear; the onboarding ends `invalid_request` /
`request.not_encrypted` at once, calls no one, and its run (the history holding the data)
is deleted `FORGET_AFTER_SECONDS` later. The time-skipping test server never deletes, so
this runs on the dev server, in real time (about 30 s).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from contracts.sealing import FORGET_AFTER_SECONDS
from devstack.stack import DevStack
from onboarding_client.contract.names import WORKFLOW_TYPE, workflow_id_for
from onboarding_client.contract.outcome import Outcome
from onboarding_client.onboardings import result_of

pytestmark = pytest.mark.e2e

PERSON = {"code": "52998224725", "name": "Joana Esquecida Teste", "email": "joana@example.org"}


@pytest_asyncio.fixture(scope="module")
async def stack(state: Path) -> AsyncIterator[DevStack]:
    parts = ("temporal", "sandbox", "gateway", "worker")
    async with DevStack.on_free_ports(state / "unsealed", parts=parts) as running:
        yield running


async def gone_within(handle: WorkflowHandle[object, object], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            await handle.describe()
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                return True
            raise
        await asyncio.sleep(0.5)
    return False


async def test_a_start_in_clear_is_refused_and_its_history_deleted(stack: DevStack) -> None:
    client = stack.client
    forgetful = Client(
        client.service_client, namespace=client.namespace, data_converter=pydantic_data_converter
    )
    request_id = uuid.uuid4().hex
    request = {"request_id": request_id, "subject": PERSON, "selfie_ref": "local:" + "0" * 32}
    first = await forgetful.start_workflow(
        WORKFLOW_TYPE,
        request,
        id=workflow_id_for(request_id),
        task_queue=stack.settings.task_queue,
    )

    result = await result_of(client, request_id)

    assert result.outcome is Outcome.INVALID_REQUEST
    assert [reason.code for reason in result.reasons] == ["request.not_encrypted"]
    assert result.attempts == 0 and result.process_id is None
    first_run = client.get_workflow_handle(first.id, run_id=first.first_execution_run_id)
    assert await gone_within(first_run, FORGET_AFTER_SECONDS + 30)
    with pytest.raises(RPCError, match="not found"):
        await client.get_workflow_handle(first.id).describe()
