"""A client that is not our Python code: the real `temporal` CLI starts an onboarding with
the README's JSON and reads its result, against the test dev server and worker."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from temporalio.client import Client

from activities.selfies import SelfieStore
from onboarding.demo import SAMPLE_SELFIE
from onboarding.devstack import temporal_binary
from onboarding.settings import Settings


async def temporal(client: Client, *args: str) -> Any:
    """Run the CLI without blocking the event loop, where this test's worker runs."""
    address = client.service_client.config.target_host
    process = await asyncio.create_subprocess_exec(
        str(temporal_binary()), *args, "--address", address, "--output", "json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout)


async def test_the_temporal_cli_starts_an_onboarding_and_reads_its_result(
    client: Client, settings: Settings, selfies: SelfieStore
) -> None:
    request_id = f"cli-{uuid.uuid4().hex[:12]}"
    workflow_id = f"onboarding-{request_id}"
    request = {
        "request_id": request_id,
        "subject": {"code": "00000000272", "name": "Maria Silva"},
        "selfie_ref": selfies.put(SAMPLE_SELFIE.read_bytes()),
        "options": {"poll_initial_seconds": 1},
    }
    started = await temporal(
        client,
        "workflow", "start",
        "--type", "Onboarding",
        "--task-queue", settings.task_queue,
        "--workflow-id", workflow_id,
        "--id-conflict-policy", "UseExisting",
        "--id-reuse-policy", "RejectDuplicate",
        "--input", json.dumps(request),
        "--static-summary", "Unico identity check, use case Onboarding",
    )  # fmt: skip
    assert started["workflowId"] == workflow_id

    answer = await temporal(client, "workflow", "result", "--workflow-id", workflow_id)
    assert answer["status"] == "COMPLETED"
    result = answer["result"]
    assert result["outcome"] == "approved"
    assert (result["unico_status"], result["unico_id"], result["score"]) == (3, "inconclusive", 90)
    assert result["reasons"] == [
        {"code": "score.approve", "message": "risk score 90 is in the approve band"}
    ]
    assert result["attempts"] == 1 and result["process_id"]
