"""Benchmark: how long a person's data sent in clear stays on the server.

A caller that forgot the codec starts ROUNDS onboardings with the input in clear, one
after another, on a stack with a worker. Each ends `request.not_encrypted` at once; its
`ForgetRun` deletes the run FORGET_AFTER_SECONDS later. The figures: from the start
request to the refusal the caller reads, and to the run gone from the server (described:
not found), which is how long the data was readable there.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from bench.result import BenchResult, spread
from bench.stack import bench_stack
from contracts.sealing import FORGET_AFTER_SECONDS
from devstack.stack import DevStack
from onboarding_client.contract.names import WORKFLOW_TYPE, workflow_id_for
from onboarding_client.onboardings import result_of

NAME = "unsealed"
DEFAULT = False  # a minute and more of waiting: asked for by name
ROUNDS = 3
PARTS = ("temporal", "sandbox", "gateway", "worker")
# The data must be gone within the wait and a few seconds of the server's deletion.
TARGET_SECONDS = FORGET_AFTER_SECONDS + 10


async def _one(stack: DevStack, forgetful: Client) -> tuple[float, float]:
    request_id = uuid.uuid4().hex
    person = {"code": "52998224725", "name": "Pessoa Esquecida"}
    began = time.monotonic()
    handle = await forgetful.start_workflow(
        WORKFLOW_TYPE,
        {"request_id": request_id, "subject": person, "selfie_ref": "local:" + "0" * 32},
        id=workflow_id_for(request_id),
        task_queue=stack.settings.task_queue,
    )
    result = await result_of(stack.client, request_id)
    assert [reason.code for reason in result.reasons] == ["request.not_encrypted"]
    refused = time.monotonic() - began
    first = stack.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    while True:
        try:
            await first.describe()
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                return refused, time.monotonic() - began
            raise
        await asyncio.sleep(0.2)


async def run(work: Path) -> BenchResult:
    async with bench_stack(work / "stack", parts=PARTS) as stack:
        client = stack.client
        forgetful = Client(
            client.service_client,
            namespace=client.namespace,
            data_converter=pydantic_data_converter,
        )
        rounds = [await _one(stack, forgetful) for _ in range(ROUNDS)]
    refused, gone = spread([r for r, _ in rounds]), spread([g for _, g in rounds])
    return BenchResult(
        NAME,
        {"rounds": ROUNDS, "refused_seconds": refused, "gone_seconds": gone},
        [
            f"{ROUNDS} starts in clear, one at a time (ForgetRun waits {FORGET_AFTER_SECONDS:g} s)",
            f"  refusal read by the caller: median {refused['median']:.2f} s, "
            f"max {refused['max']:.2f} s",
            f"  run gone from the server:   median {gone['median']:.1f} s, max {gone['max']:.1f} s "
            f"(target: within {TARGET_SECONDS:g} s)",
        ],
        target_met=gone["max"] <= TARGET_SECONDS,
    )
