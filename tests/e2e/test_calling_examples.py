"""The calling examples against the real stack, as a calling service runs them: the Python one
(`onboarding_client` alone) and the TypeScript one (the official SDK, sealing with its own
codec), each from the stack's environment, for the test CPF that Unico's sandbox approves at
once. Each prints the decision and the result; the input the server holds is sealed; a second
run with the same request id finds the same onboarding.

The TypeScript example is built at set-up (`make examples`: npm ci, tsc); this never installs.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.contrib.pydantic import pydantic_data_converter

from devstack.stack import LOOPBACK, DevStack
from onboarding_client.codec import ENCODING, EncryptionCodec
from onboarding_client.config import CallerConfig

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TYPESCRIPT = ROOT / "examples" / "typescript"
BUILT = TYPESCRIPT / "dist" / ".built"  # what `make examples` touches once tsc is done
CPF = "12345678909"  # the sandbox's "create answers status 3, unicoId yes": approved at once
PYTHON_EXAMPLE = [sys.executable, str(ROOT / "examples" / "python" / "calling.py")]
EXAMPLES = {
    "python": PYTHON_EXAMPLE,
    # The same, holding no key: the codec server with a caller's token (docs/calling.md).
    "python-scoped": PYTHON_EXAMPLE,
    "typescript": ["node", str(TYPESCRIPT / "dist" / "calling.js")],
}
SUMMARY = "Unico identity check, use case Onboarding"


def typescript_build() -> None:
    """Fails, saying what to run, when the TypeScript example is not built or is stale."""
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: the TypeScript example needs Node.js 20")
    if not BUILT.is_file():
        pytest.fail(
            f"the TypeScript example is not built ({BUILT.relative_to(ROOT)} is missing): "
            "run `make examples` (npm ci and tsc in examples/typescript)"
        )
    sources = [
        *(TYPESCRIPT / "src").glob("*.ts"),
        *(TYPESCRIPT / name for name in ("package.json", "package-lock.json", "tsconfig.json")),
    ]
    stale = [p.name for p in sources if p.stat().st_mtime > BUILT.stat().st_mtime]
    if stale:
        pytest.fail(f"the TypeScript example's build is older than {stale}: run `make examples`")


def run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


@pytest_asyncio.fixture(scope="module")
async def stack(state: Path) -> AsyncIterator[DevStack]:
    parts = ("temporal", "sandbox", "gateway", "worker")
    async with DevStack.on_free_ports(state / "stack", parts=parts, async_delay_seconds=1.0) as s:
        yield s


def caller_environment(stack: DevStack) -> dict[str, str]:
    """What a calling service is given: the stack's keyring file, gateway and its token, and
    Temporal by address (the stack's profile file says the same, for the Python SDK)."""
    return {
        **stack.environment,
        "TEMPORAL_ADDRESS": f"{LOOPBACK}:{stack.config.ports.temporal}",
        "TEMPORAL_NAMESPACE": "default",
        "ONBOARDING_TASK_QUEUE": stack.settings.task_queue,
    }


def scoped(env: dict[str, str], stack: DevStack) -> dict[str, str]:
    """A caller given no keyring: the codec server and the stack's dev caller token."""
    keyless = {k: v for k, v in env.items() if not k.startswith("ONBOARDING_ENCRYPTION_KEY")}
    return keyless | {
        "ONBOARDING_CODEC_URL": f"{env['GATEWAY_URL']}/codec",
        "ONBOARDING_CODEC_TOKEN_FILE": str(stack.config.keys_dir / "caller-codec-token"),
    }


async def test_a_callers_codec_token_cannot_open_the_input(stack: DevStack) -> None:
    """What the scoped caller cannot do: read a person's data out of history."""
    request_id = f"example-scoped-{uuid.uuid4().hex[:8]}"
    env = scoped(caller_environment(stack), stack)
    done = await asyncio.to_thread(
        run, [*PYTHON_EXAMPLE, "--cpf", CPF, "--request-id", request_id], env
    )
    assert done.returncode == 0, done.stderr
    history = await stack.client.get_workflow_handle(f"onboarding-{request_id}").fetch_history()
    [sealed] = history.events[0].workflow_execution_started_event_attributes.input.payloads
    [kept] = await CallerConfig.from_environment(env).codec().decode([sealed])
    assert kept.metadata["encoding"] == ENCODING  # back still sealed
    assert b"Maria Silva" not in kept.data


def test_the_typescript_codec_seals_the_vectors_to_the_same_bytes() -> None:
    typescript_build()
    done = run(["node", str(TYPESCRIPT / "dist" / "vectors.js")])
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "vectors: 3 ok", done.stdout


@pytest.mark.parametrize("example", list(EXAMPLES))
async def test_the_example_prints_the_decision_then_the_result(
    stack: DevStack, example: str
) -> None:
    if example == "typescript":
        typescript_build()
    request_id = f"example-{example}-{uuid.uuid4().hex[:8]}"
    command = [*EXAMPLES[example], "--cpf", CPF, "--request-id", request_id]
    env = caller_environment(stack)
    if example == "python-scoped":
        env = scoped(env, stack)
    done = await asyncio.to_thread(run, command, env)
    assert done.returncode == 0, done.stderr
    print(f"--- {example} example ---\n{done.stdout}", end="")  # shown with -s
    lines = done.stdout.splitlines()
    assert len(lines) == 4, done.stdout
    assert re.fullmatch(r"selfie: local:\S+", lines[0]), lines[0]
    assert lines[1] == f"workflow: onboarding-{request_id}"
    assert lines[2] == "decision: outcome=approved attempts=1 reasons=unico_id.yes"
    assert lines[3] == "result: outcome=approved attempts=1 reasons=unico_id.yes"

    # What the server holds: the input sealed (by the TypeScript codec natively, for that
    # one), opening with the stack's keyring to the request, and the static summary.
    handle = stack.client.get_workflow_handle(f"onboarding-{request_id}")
    history = await handle.fetch_history()  # raw: no codec applied
    started = history.events[0]
    assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    [sealed] = started.workflow_execution_started_event_attributes.input.payloads
    assert sealed.metadata["encoding"] == ENCODING
    assert CPF.encode() not in sealed.data
    keyring = CallerConfig.from_environment(caller_environment(stack)).keyring
    assert keyring is not None
    [opened] = await EncryptionCodec(keyring).decode([sealed])
    request = pydantic_data_converter.payload_converter.from_payload(opened)
    assert (request["subject"]["code"], request["subject"]["name"]) == (CPF, "Maria Silva")
    assert request["selfie_ref"] == lines[0].removeprefix("selfie: ")
    assert started.user_metadata.summary.metadata["encoding"] == ENCODING
    assert await (await handle.describe()).static_summary() == SUMMARY

    # The same request id again: the ended onboarding answers, no second Unico process.
    again = await asyncio.to_thread(run, command, env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1:] == lines[1:], again.stdout
