"""A client that is not our Python code: the real `temporal` CLI starts an onboarding with
the JSON of docs/operations.md and reads its result, against the test dev server and worker.

Payloads are encrypted, so the CLI goes through the gateway's codec server, exactly as the
commands of docs/operations.md do: `--codec-endpoint` and `--codec-auth` on every command
that carries a payload. Without them the CLI sees only ciphertext.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client

from activities.selfies.local_store import SelfieStore
from devstack.demo import SAMPLE_SELFIE
from devstack.stack import temporal_binary
from onboarding.gateway.codec_server import CODEC_PATH
from onboarding.gateway.service import create_gateway
from onboarding.runtime.settings import Settings
from onboarding_client.codec import ENCODING, EncryptionCodec
from tests.serving import serving
from tests.support import CODEC_TOKEN, fixed_keyring


@pytest_asyncio.fixture(scope="module")
async def codec_endpoint(settings: Settings, selfies: SelfieStore) -> AsyncIterator[str]:
    """The gateway with its codec server, as `make run` serves it at :8088/codec."""
    gateway_settings = settings.model_copy(
        update={"codec_auth_token": SecretStr(CODEC_TOKEN), "gateway_routes": "codec"}
    )
    app = create_gateway(gateway_settings, selfies, EncryptionCodec(fixed_keyring()))
    async with serving(app) as url:
        yield f"{url}{CODEC_PATH}"


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
    client: Client, settings: Settings, selfies: SelfieStore, codec_endpoint: str
) -> None:
    codec = ["--codec-endpoint", codec_endpoint, "--codec-auth", f"Bearer {CODEC_TOKEN}"]
    request_id = f"cli-{uuid.uuid4().hex[:12]}"
    workflow_id = f"onboarding-{request_id}"
    selfie_ref = selfies.put(SAMPLE_SELFIE.read_bytes())
    request = {
        "request_id": request_id,
        "subject": {"code": "00000000272", "name": "Maria Silva"},
        "selfie_ref": selfie_ref,
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
        "--static-summary", "Unico identity check, use case Onboarding",
        "--input", json.dumps(request),
        *codec,
    )  # fmt: skip
    assert started["workflowId"] == workflow_id

    answer = await temporal(client, "workflow", "result", "--workflow-id", workflow_id, *codec)
    assert answer["status"] == "COMPLETED"
    result = answer["result"]
    assert result["outcome"] == "approved"
    assert (result["unico_status"], result["unico_id"], result["score"]) == (3, "inconclusive", 90)
    assert result["reasons"] == [
        {"code": "score.approve", "message": "risk score 90 is in the approve band"}
    ]
    assert result["attempts"] == 1 and result["process_id"]

    # The CLI encoded the input through the codec server: Temporal holds only ciphertext.
    handle = client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events():
        started_event = event.workflow_execution_started_event_attributes
        assert started_event.input.payloads[0].metadata["encoding"] == ENCODING
        break
    # And without the codec flags, the CLI sees the result sealed.
    sealed = await temporal(client, "workflow", "result", "--workflow-id", workflow_id)
    assert "outcome" not in json.dumps(sealed["result"])
    assert not selfies.exists(selfie_ref), "deleted when the onboarding ended"
