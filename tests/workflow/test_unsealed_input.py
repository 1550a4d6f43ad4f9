"""An input that reaches the worker in clear (a caller without the codec) is never decoded:
the onboarding ends `invalid_request` / `request.not_encrypted` at once, calling no remote
system, and its `ForgetRun` deletes the run once the caller had time to read why."""

from __future__ import annotations

import uuid

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from contracts.sealing import FORGET_ID_PREFIX
from onboarding_client.contract.names import WORKFLOW_TYPE, workflow_id_for
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.onboardings import handle_for
from tests.workflow.conftest import request
from tests.workflow.stubs import FORGET_RUN, Script, StubbedWorker


def plain_client(env: WorkflowEnvironment) -> Client:
    """A client as a caller that forgot the codec has: JSON payloads, unencrypted."""
    return Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=pydantic_data_converter,
    )


async def test_an_input_in_clear_ends_not_encrypted_and_its_run_is_forgotten(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script()
    onboarding = request()
    first = await plain_client(env).start_workflow(
        WORKFLOW_TYPE,
        onboarding.model_dump(mode="json"),
        id=workflow_id_for(onboarding.request_id),
        task_queue=worker.queue,
    )

    result = await handle_for(env.client, onboarding.request_id).result()

    assert result.outcome is Outcome.INVALID_REQUEST
    assert [reason.code for reason in result.reasons] == ["request.not_encrypted"]
    assert result.attempts == 0
    assert worker.script.calls == []  # nobody called
    forgetter = env.client.get_workflow_handle(f"{FORGET_ID_PREFIX}{first.id}")
    await env.fast_forward(forgetter)  # its FORGET_AFTER_SECONDS, skipped
    forgotten = worker.script.called(FORGET_RUN)
    assert forgotten == [{"workflow_id": first.id, "run_id": first.first_execution_run_id}]


async def test_a_sealed_input_is_not_taken_for_one_in_clear(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    worker.script = Script()
    onboarding = request()
    handle = await env.client.start_workflow(
        WORKFLOW_TYPE,
        onboarding,
        id=workflow_id_for(onboarding.request_id),
        task_queue=worker.queue,
        result_type=OnboardingResult,
    )

    result = await handle.result()

    assert result.outcome is Outcome.APPROVED
    assert worker.script.called(FORGET_RUN) == []


async def test_any_argument_in_clear_is_refused_not_read(
    env: WorkflowEnvironment, worker: StubbedWorker
) -> None:
    """Arguments in clear of any shape and number: refused as a whole, nothing decoded."""
    worker.script = Script()
    request_id = uuid.uuid4().hex
    await plain_client(env).start_workflow(
        WORKFLOW_TYPE,
        args=[{"request_id": request_id}, {"not_encrypted": True}],
        id=workflow_id_for(request_id),
        task_queue=worker.queue,
    )

    result = await handle_for(env.client, request_id).result()

    assert result.outcome is Outcome.INVALID_REQUEST
    assert [reason.code for reason in result.reasons] == ["request.not_encrypted"]
    assert worker.script.calls == []
