"""The worker, the CLI and the gateway reach Temporal over real TLS, as in production.

A real-time dev server sits behind a TLS-terminating proxy that requires a client
certificate (mTLS), and behind a gRPC proxy that lets in only calls with the right API key;
certificates are made at test time. Every process is started as a deployment starts it, with
Temporal's own variables or a profile file, and each misconfiguration stops it within
seconds, in one line that names the setting, with exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from onboarding.demo import SAMPLE_SELFIE
from tests.e2e.fleet import start_worker, target
from tests.support import (
    GATEWAY_TOKEN,
    TEST_KEYS,
    KeyPair,
    Sandbox,
    running_gateway,
    running_sandbox,
    worker_environment,
)
from tests.tls import SERVER_NAME, ApiKeyProxy, Pki, api_key_proxy, mtls_proxy

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "test-temporal-api-key"  # a test secret, for the proxy that stands for Cloud
REFUSAL_SECONDS = 10  # "within seconds": far below any hang, above a loaded machine's start


@pytest.fixture(scope="module")
def pki(state: Path) -> Pki:
    return Pki.make(state / "pki")


@pytest_asyncio.fixture(scope="module")
async def mtls(pki: Pki, temporal: WorkflowEnvironment) -> AsyncIterator[str]:
    async with mtls_proxy(pki, target(temporal)) as address:
        yield address


@pytest_asyncio.fixture(scope="module")
async def cloud(pki: Pki, temporal: WorkflowEnvironment) -> AsyncIterator[ApiKeyProxy]:
    async with api_key_proxy(pki, target(temporal), API_KEY) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def sandbox(keys: KeyPair, state: Path) -> Iterator[Sandbox]:
    with running_sandbox(keys, 1.0, state / "sandbox.log") as running:
        yield running


@pytest.fixture(scope="module")
def gateway(state: Path) -> Iterator[str]:
    with running_gateway(state / "gateway.log", state / "selfies") as url:
        yield url


def clean_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without any Temporal setting of the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    return {**env, **overrides}


@dataclass
class Ran:
    code: int
    out: str
    err: str
    seconds: float


async def run(command: list[str], env: dict[str, str], timeout: float = 120) -> Ran:
    """A process of ours, run without blocking the loop the proxies serve from."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode(), time.monotonic() - started)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "onboarding.cli", *args]


def start_command(request_id: str) -> list[str]:
    return cli(
        "start", "--cpf", "12345678909", "--name", "Maria Silva", "--selfie",
        str(SAMPLE_SELFIE), "--request-id", request_id, "--wait", "--json",
    )  # fmt: skip


async def onboard_through(
    connection: dict[str, str], keys: KeyPair, sandbox: Sandbox, state: Path, gateway: str
) -> dict[str, object]:
    """A worker process and `onboarding start --wait`, both connected as `connection` says."""
    queue = f"tls-{uuid.uuid4().hex[:8]}"
    settings = {**worker_environment(keys, sandbox, state / "selfies"), **connection}
    worker = start_worker({**settings, "TASK_QUEUE": queue}, state / f"worker-{queue}.log")
    try:
        await asyncio.to_thread(worker.wait_ready)
        caller = clean_environment(
            **connection,
            TASK_QUEUE=queue,
            GATEWAY_URL=gateway,
            GATEWAY_API_TOKEN=GATEWAY_TOKEN,
            ONBOARDING_ENCRYPTION_KEYS=settings["ONBOARDING_ENCRYPTION_KEYS"],
        )
        done = await run(start_command(f"tls-{queue}"), caller)
    finally:
        # In a thread: the proxies serve from this loop, and the worker's shutdown uses them.
        assert await asyncio.to_thread(worker.stop) == 0
    assert done.code == 0, done.err
    log = worker.log.read_text()
    assert "worker polling" in log
    answer: dict[str, object] = json.loads(done.out)
    return answer


async def test_an_onboarding_completes_over_mtls(
    mtls: str, pki: Pki, keys: KeyPair, sandbox: Sandbox, state: Path, gateway: str
) -> None:
    answer = await onboard_through(pki.mtls_environment(mtls), keys, sandbox, state, gateway)
    result = answer["result"]
    assert isinstance(result, dict) and result["outcome"] == "approved"
    log = next(state.glob("worker-tls-*.log")).read_text()
    assert f"{mtls}, namespace default, mTLS" in log


async def test_an_onboarding_completes_with_an_api_key_from_a_profile_file(
    cloud: ApiKeyProxy, pki: Pki, keys: KeyPair, sandbox: Sandbox, state: Path, gateway: str
) -> None:
    profile = state / "cloud.toml"
    profile.write_text(
        f'[profile.cloud]\naddress = "{cloud.address}"\nnamespace = "default"\n'
        f'api_key = "{API_KEY}"\n'
    )
    connection = {
        "TEMPORAL_CONFIG_FILE": str(profile),
        "TEMPORAL_PROFILE": "cloud",
        # The proxy's certificate is the test CA's: the system's roots do not know it.
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
        "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
    }
    cloud.seen.clear()
    answer = await onboard_through(connection, keys, sandbox, state, gateway)
    result = answer["result"]
    assert isinstance(result, dict) and result["outcome"] == "approved"
    assert cloud.seen and set(cloud.seen) == {f"Bearer {API_KEY}"}, "every call carried it"


async def test_an_api_key_alone_turns_tls_on(cloud: ApiKeyProxy, state: Path) -> None:
    """No TLS setting at all: the key alone makes the client speak TLS, and verify the
    server against the system's roots, which do not know the test CA."""
    profile = state / "key-only.toml"
    profile.write_text(f'[profile.default]\naddress = "{cloud.address}"\napi_key = "{API_KEY}"\n')
    done = await run(cli("status", "r-1"), refusal_env(TEMPORAL_CONFIG_FILE=str(profile)))
    line = one_line(done, "onboarding status: ")
    assert line.startswith("onboarding status: TEMPORAL_TLS_SERVER_CA_CERT_PATH: ")
    assert "no CA of this system signed" in line


async def test_a_refused_api_key_stops_the_worker_in_one_line(
    cloud: ApiKeyProxy, pki: Pki, keys: KeyPair, sandbox: Sandbox, state: Path
) -> None:
    profile = state / "wrong-key.toml"
    profile.write_text(f'[profile.default]\naddress = "{cloud.address}"\napi_key = "not-it"\n')
    env = refusal_env(
        **worker_environment(keys, sandbox, state / "selfies"),
        TEMPORAL_CONFIG_FILE=str(profile),
        TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(pki.ca),
        TEMPORAL_TLS_SERVER_NAME=SERVER_NAME,
    )
    done = await run([sys.executable, "-m", "worker"], env)
    line = one_line(done, "worker: ")
    assert line == (
        f'worker: api_key of profile "default" in {profile}: the server at {cloud.address} '
        "refused the API key (Request unauthorized.)"
    )
    assert "not-it" not in done.err


# --- refusals: one line naming the setting, exit 2, within seconds ----------------------

MTLS_REFUSALS: dict[str, tuple[dict[str, str | None], str]] = {
    "no client certificate": (
        {"TEMPORAL_TLS_CLIENT_CERT_PATH": None, "TEMPORAL_TLS_CLIENT_KEY_PATH": None},
        "TEMPORAL_TLS_CLIENT_CERT_PATH: the server at {address} closed the connection during "
        "TLS: it wants a client certificate",
    ),
    "a client certificate of another CA": (
        {"TEMPORAL_TLS_CLIENT_CERT_PATH": "other_client_cert",
         "TEMPORAL_TLS_CLIENT_KEY_PATH": "other_client_key"},
        "TEMPORAL_TLS_CLIENT_CERT_PATH: the server at {address} refused the client certificate",
    ),
    "a wrong CA": (
        {"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "other_ca"},
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH: the server at {address} presents a certificate "
        "this CA did not sign",
    ),
    "a wrong server name": (
        {"TEMPORAL_TLS_SERVER_NAME": "wrong.test"},
        "TEMPORAL_TLS_SERVER_NAME: the server at {address} presents a certificate for "
        f"{SERVER_NAME}, not wrong.test",
    ),
    "plaintext to a TLS server": (
        {"TEMPORAL_TLS": "false"},
        "TEMPORAL_TLS: the server at {address} speaks TLS, and TLS is off",
    ),
    "a key that is not the certificate's": (
        {"TEMPORAL_TLS_CLIENT_KEY_PATH": "other_client_key"},
        "TEMPORAL_TLS_CLIENT_KEY_PATH: the key does not match the certificate of "
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
    ),
    "a missing certificate file": (
        {"TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/client.pem"},
        "TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read /nonexistent/client.pem: No such file",
    ),
}  # fmt: skip


def refusal_env(**settings: str) -> dict[str, str]:
    return clean_environment(**{"ONBOARDING_ENCRYPTION_KEYS": TEST_KEYS, **settings})


def one_line(done: Ran, prefix: str) -> str:
    assert done.code == 2, (done.code, done.err)
    assert "Traceback" not in done.err
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith(prefix), lines[0]
    assert done.seconds < REFUSAL_SECONDS, f"{done.seconds:.1f}s"
    return lines[0]


def mtls_case(pki: Pki, address: str, changes: dict[str, str | None]) -> dict[str, str]:
    env = pki.mtls_environment(address)
    for name, value in changes.items():
        if value is None:
            env.pop(name)
        else:
            env[name] = str(getattr(pki, value)) if hasattr(pki, value) else value
    return env


@pytest.mark.parametrize("case", list(MTLS_REFUSALS))
@pytest.mark.parametrize("who", ["worker", "cli", "gateway"])
async def test_each_misconfiguration_stops_the_process_in_one_line(
    mtls: str, pki: Pki, keys: KeyPair, sandbox: Sandbox, state: Path, who: str, case: str
) -> None:
    changes, expected = MTLS_REFUSALS[case]
    connection = mtls_case(pki, mtls, changes)
    if who == "worker":
        env = refusal_env(**worker_environment(keys, sandbox, state / "selfies"), **connection)
        command, prefix = [sys.executable, "-m", "worker"], "worker: "
    elif who == "cli":
        env = refusal_env(**connection)
        command, prefix = cli("status", "r-1"), "onboarding status: "
    else:
        env = refusal_env(
            **connection,
            WEBHOOK_AUTH="bearer",
            WEBHOOK_BEARER_TOKEN="t",
            GATEWAY_ROUTES="webhook",
            GATEWAY_PORT="1",  # never bound: the connection fails first
        )
        command, prefix = [sys.executable, "-m", "onboarding.gateway"], "onboarding.gateway: "
    line = one_line(await run(command, env), prefix)
    assert line.startswith(prefix + expected.format(address=mtls)), line
