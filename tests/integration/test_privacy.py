"""Personal data stays protected: what Temporal stores, what the logs say, where the selfie goes.

Real onboardings on the dev server; histories exported with the real `temporal` CLI, raw and
through the gateway's codec server running as its own process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.selfies import SelfieSweeper
from activities.selfies.local_store import SelfieStore
from devstack.demo import SAMPLE_SELFIE
from devstack.stack import temporal_binary
from devstack.watch import until_stage
from onboarding.runtime.logs import json_handler
from onboarding.runtime.settings import Settings
from onboarding.temporal.client import onboarding_open
from onboarding.temporal.otp import submit_code
from onboarding_client.contract.names import WORKFLOW_TYPE
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import handle_for, start_onboarding
from tests.integration.workers import Served, serving_workers
from tests.replay.corpus import exported_payloads
from tests.support import (
    API_KEY,
    AUTH0_SECRET,
    CODEC_TOKEN,
    IDENTITY_CLOUD_SECRET,
    TEST_KEYS,
    KeyPair,
    Sandbox,
    running_gateway,
)

SAMPLE = SAMPLE_SELFIE.read_bytes()
FAST = {"poll_initial_seconds": 1, "poll_max_seconds": 2, "max_process_attempts": 2}
CPF = "52998224725"  # valid, and no sandbox scenario: approved at once
REGISTERED_CPF = "39053344705"  # likewise, for the account step: its record holds it
CLASHING_CPF = "39053340033"  # its e-mail is another person's record's
REGISTER = {"account": {"register": True}}
PERSON = {
    "name": "Joana Privada Teste",
    "email": "joana.privada@example.org",
    "phone": "5511987654321",
}
ENCRYPTED = b"binary/encrypted"
NULL = b"binary/null"  # a None: no data, left plain for the server


def onboarding_request(
    selfies: SelfieStore, cpf: str, options: dict[str, Any] | None = None, **subject: str
) -> OnboardingRequest:
    return OnboardingRequest.model_validate(
        {
            "request_id": uuid.uuid4().hex,
            "subject": {"code": cpf, **PERSON, **subject},
            "selfie_ref": selfies.put(SAMPLE),
            "options": {**FAST, **(options or {})},
        }
    )


async def run(client: Client, settings: Settings, request: OnboardingRequest) -> OnboardingResult:
    handle = await start_onboarding(client, request, settings.task_queue)
    return await handle.result()


def address(client: Client) -> str:
    return client.service_client.config.target_host


async def export(client: Client, workflow_id: str, *codec: str) -> str:
    """`temporal workflow show --output json`, as an operator would run it."""
    command = [str(temporal_binary()), "workflow", "show", "--address", address(client)]
    command += ["--namespace", "default", "--workflow-id", workflow_id, "--output", "json"]
    done = await asyncio.to_thread(
        subprocess.run, [*command, *codec], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def blobs(exported: str) -> list[bytes]:
    """The export's text, and every base64 string in it decoded (payload data, metadata)."""
    found = [exported.encode()]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and len(value) >= 8:
            with contextlib.suppress(ValueError):  # not base64: the text covers it
                found.append(base64.b64decode(value, validate=True))

    walk(json.loads(exported))
    return found


def findings(exported: str, needles: dict[str, bytes]) -> set[str]:
    haystack = blobs(exported)
    return {name for name, needle in needles.items() if any(needle in blob for blob in haystack)}


# Never encoded, and holding no personal data: search attributes (the server indexes them)
# and the SDK's own markers (a patch's id).
UNENCODED = frozenset({"searchAttributes", "markerRecordedEventAttributes"})


def payload_encodings(value: Any) -> Iterator[bytes]:
    """The encoding of every payload in an export, but for the UNENCODED parts."""
    return (payload.metadata["encoding"] for payload in exported_payloads(value, UNENCODED))


@pytest.fixture(scope="module")
def codec_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("codec")
    with running_gateway(state / "gateway.log", state / "selfies") as url:
        yield f"{url}/codec"


async def test_histories_hold_no_personal_data_and_the_codec_server_reveals_it(
    client: Client,
    settings: Settings,
    selfies: SelfieStore,
    served: Served,
    keys: KeyPair,
    codec_server: str,
) -> None:
    formatted = f"{CPF[:3]}.{CPF[3:6]}.{CPF[6:9]}-{CPF[9:]}"
    async_cpf = "00000000272"  # polls Unico: timers, read_process, the webhook-less path
    requests = [
        onboarding_request(selfies, formatted),
        onboarding_request(selfies, async_cpf),
        onboarding_request(selfies, CPF, email="not-an-address"),  # refused before Unico
        # The account step sends it all to Identity Cloud: the activity's payloads too.
        onboarding_request(selfies, REGISTERED_CPF, REGISTER),
    ]
    results = [await run(client, settings, r) for r in requests]
    assert [r.outcome for r in results] == [
        Outcome.APPROVED,
        Outcome.APPROVED,
        Outcome.INVALID_REQUEST,
        Outcome.APPROVED,
    ]
    assert results[-1].account is not None and results[-1].account.uuid
    personal = {
        "cpf": CPF.encode(),
        "formatted cpf": formatted.encode(),
        "async cpf": async_cpf.encode(),
        "registered cpf": REGISTERED_CPF.encode(),
        "name": PERSON["name"].encode(),
        "email": PERSON["email"].encode(),
        "phone": PERSON["phone"].encode(),
    }
    secret = {
        "access token": (await served.token_cache().token()).encode(),
        "api key": API_KEY.encode(),
        "identity cloud secret": IDENTITY_CLOUD_SECRET.encode(),
        "payload key": TEST_KEYS.split(":")[1].encode(),
        "service account key": keys.private.read_bytes()[40:100],
        "image bytes": SAMPLE[2000:2064],
        "image base64": base64.b64encode(SAMPLE)[2000:2064],
    }
    for request in requests:
        workflow_id = f"onboarding-{request.request_id}"
        raw = await export(client, workflow_id)
        assert findings(raw, {**personal, **secret}) == set(), workflow_id
        encodings = set(payload_encodings(json.loads(raw)))
        assert ENCRYPTED in encodings
        assert encodings <= {ENCRYPTED, NULL}, "every payload but search attributes is encrypted"

        decoded = await export(
            client, workflow_id, "--codec-endpoint", codec_server, "--codec-auth",
            f"Bearer {CODEC_TOKEN}",
        )  # fmt: skip
        assert findings(decoded, secret) == set(), "the selfie and tokens never enter history"
        shown = findings(decoded, personal)
        assert {"name", "phone"} <= shown, workflow_id
        assert ("async cpf" in shown) == (request.subject.code == async_cpf)
        assert ("registered cpf" in shown) == (request.subject.code == REGISTERED_CPF)
        assert ("cpf" in shown) == (request.subject.code not in (async_cpf, REGISTERED_CPF))
        assert ("email" in shown) == (request.subject.email == PERSON["email"])
        assert ENCRYPTED not in set(payload_encodings(json.loads(decoded)))


async def test_an_input_sent_in_clear_ends_not_encrypted_and_its_run_is_left_to_forget(
    env: WorkflowEnvironment,
    client: Client,
    settings: Settings,
    selfies: SelfieStore,
    served: Served,
) -> None:
    """A caller that forgot the codec: the worker never decodes the input, the onboarding
    ends `request.not_encrypted` calling no one, and its ForgetRun asks the server to delete
    the run (this test server never deletes: tests/e2e/test_unsealed_input.py sees it go)."""
    request = onboarding_request(selfies, CPF)
    forgetful = Client(
        client.service_client, namespace=client.namespace, data_converter=pydantic_data_converter
    )
    first = await forgetful.start_workflow(
        WORKFLOW_TYPE,
        request.model_dump(mode="json"),
        id=f"onboarding-{request.request_id}",
        task_queue=settings.task_queue,
    )

    result = await handle_for(client, request.request_id).result()

    assert result.outcome is Outcome.INVALID_REQUEST
    assert [reason.code for reason in result.reasons] == ["request.not_encrypted"]
    assert result.attempts == 0 and result.process_id is None
    forget = client.get_workflow_handle(f"forget-{first.id}")
    await env.fast_forward(forget)  # its wait, skipped; it asked the server to delete the run
    await forget.result()
    forgetter = await export(client, forget.id)  # what stays: ids, no one's data
    personal = {"cpf": CPF.encode(), "name": PERSON["name"].encode()}
    assert findings(forgetter, personal) == set()


async def test_mfa_secrets_never_reach_history_in_clear_and_the_transaction_not_even_decoded(
    client: Client, settings: Settings, selfies: SelfieStore, sandbox: Sandbox, codec_server: str
) -> None:
    """The code and the recovery code travel only in encrypted payloads (the update's input
    and answer); the Guardian transaction's token and the ticket, sealed by the activities,
    are not in the history even through the codec server."""
    phone = "11970009999"
    request = onboarding_request(selfies, CPF, {"mfa": {"enroll": True, "user_id": "auth0|p"}})
    request = request.model_copy(
        update={"subject": request.subject.model_copy(update={"phone": phone})}
    )
    handle = await start_onboarding(client, request, settings.task_queue)
    await until_stage(handle, Stage.AWAITING_OTP)
    code = sandbox.last_code(f"+55{phone}")
    answer = await submit_code(client, request.request_id, code)
    assert answer.accepted and answer.recovery_code
    await handle.result()
    [transaction] = [t for t in sandbox.guardian_transactions() if t["user_id"] == "auth0|p"]
    code_and_recovery = {"code": code.encode(), "recovery code": answer.recovery_code.encode()}
    sealed = {
        "transaction token": transaction["transaction_token"].encode(),
        "ticket": transaction["ticket_id"].encode(),
        "auth0 secret": AUTH0_SECRET.encode(),
    }
    raw = await export(client, handle.id)
    assert findings(raw, {**code_and_recovery, **sealed}) == set()
    decoded = await export(
        client, handle.id, "--codec-endpoint", codec_server, "--codec-auth", f"Bearer {CODEC_TOKEN}"
    )
    assert findings(decoded, sealed) == set(), "sealed by the activities: not even decoded"
    assert findings(decoded, code_and_recovery) == {"code", "recovery code"}


async def test_the_codec_server_refuses_callers_without_the_token(codec_server: str) -> None:
    body = {"payloads": [{"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA=="}, "data": ""}]}
    async with httpx.AsyncClient(timeout=10) as http:
        for headers in ({}, {"Authorization": "Bearer not-the-token"}):
            for path in ("decode", "encode"):
                response = await http.post(f"{codec_server}/{path}", json=body, headers=headers)
                assert response.status_code == 401, (path, headers)


async def test_logs_of_real_onboardings_hold_no_personal_data(
    client: Client, settings: Settings, selfies: SelfieStore, served: Served
) -> None:
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        gone = onboarding_request(selfies, "00000000868")  # GET answers 410: failed activities
        leaky_id = onboarding_request(selfies, CPF).model_copy(
            update={"request_id": f"order-{CPF}"}  # refused: the workflow id would carry it
        )
        # An e-mail another person's record holds: the account step fails with 361.
        clash = onboarding_request(
            selfies, CLASHING_CPF, REGISTER, email="ana.existing@example.com"
        )
        results = [
            await run(client, settings, onboarding_request(selfies, CPF)),
            await run(client, settings, gone),
            await run(client, settings, clash),
            # Past the client's own check, as any Temporal client could start it.
            await client.execute_workflow(
                WORKFLOW_TYPE,
                leaky_id,
                id=f"onboarding-{leaky_id.request_id}",
                task_queue=settings.task_queue,
                result_type=OnboardingResult,
            ),
        ]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    outcomes = [r.outcome for r in results]
    assert outcomes == [
        Outcome.APPROVED,
        Outcome.ERROR,
        Outcome.APPROVED,
        Outcome.INVALID_REQUEST,
    ]
    assert results[2].account is not None and results[2].account.status == "failed"
    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    loggers = {line["logger"] for line in lines}
    assert {"temporalio.activity", "temporalio.worker._activity"} <= loggers
    assert any("Completing activity as failed" in line["message"] for line in lines)
    # The refused request's workflow id reaches the SDK's log lines: masked there.
    assert "onboarding-order-[redacted cpf]" in output
    token = await served.token_cache().token()
    secrets = (token, API_KEY, IDENTITY_CLOUD_SECRET, TEST_KEYS.split(":")[1])
    for needle in (CPF, CLASHING_CPF, "ana.existing@example.com", *PERSON.values(), *secrets):
        assert needle not in output
    assert base64.b64encode(SAMPLE)[2000:2064].decode() not in output


async def test_the_client_refuses_a_request_id_that_carries_the_cpf(
    client: Client, settings: Settings, selfies: SelfieStore
) -> None:
    request = onboarding_request(selfies, CPF).model_copy(update={"request_id": f"o-{CPF}"})
    with pytest.raises(ValueError, match="request_id must not contain the CPF"):
        await start_onboarding(client, request, settings.task_queue)
    with pytest.raises(RPCError, match="not found"):
        await client.get_workflow_handle(f"onboarding-{request.request_id}").describe()


async def test_the_selfie_is_deleted_when_the_onboarding_ends(
    client: Client, settings: Settings, selfies: SelfieStore
) -> None:
    approved = onboarding_request(selfies, CPF)
    assert selfies.exists(approved.selfie_ref)
    await run(client, settings, approved)
    assert not selfies.exists(approved.selfie_ref), "its owner deleted it"
    # A request refused before any call claims nothing and deletes nothing (its caller may
    # fix the typo and name the upload again): the sweep of unclaimed uploads takes it.
    refused = onboarding_request(selfies, "12345678900")  # bad check digits
    await run(client, settings, refused)
    assert selfies.exists(refused.selfie_ref)
    sweeper = SelfieSweeper(selfies, partial(onboarding_open, client), unclaimed_seconds=60)
    await sweeper.sweep(now=time.time() + 61)
    assert not selfies.exists(refused.selfie_ref)


async def test_with_a_retention_period_a_durable_timer_deletes_it_later(
    client: Client, keeping_settings: Settings, selfies: SelfieStore
) -> None:
    request = onboarding_request(selfies, CPF)
    result = await run(client, keeping_settings, request)
    assert result.outcome == Outcome.APPROVED
    assert selfies.exists(request.selfie_ref), "kept for the retention period"
    retention = client.get_workflow_handle(f"selfie-retention-onboarding-{request.request_id}")
    await retention.result()
    assert not selfies.exists(request.selfie_ref)


@pytest.fixture
async def keeping_settings(client: Client, environment: dict[str, str]) -> AsyncIterator[Settings]:
    """A second worker, on its own task queue, that keeps selfies for 30 s."""
    queue = f"keep-{uuid.uuid4().hex[:8]}"
    async with serving_workers(
        client, environment, task_queue=queue, selfie_retention_seconds=30
    ) as keeping:
        yield keeping.settings
